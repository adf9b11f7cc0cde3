#!/usr/bin/env python3
"""gen_corpus.py: a synthetic clinical-export corpus with ground truth per column (issue 15).

Writes CSV files shaped like French hospital exports (administrative extracts, pathology reports, billing,
DICOM and slide indexes, European patients) into OUT, and OUT/truth.json: for each file and column, the kind of
direct identifier planted in it ("nir", "phone", "email", "birth_date", "iban", "ip", "national_id", "names",
"patient_id"), or null for a clean column. No real data: names come from the lists below (common French first
names and surnames typed for this test, not the lists concours ships), numbers are random with valid checksums.

    gen_corpus.py --out DIR [--rows N] [--seed S]
"""
import argparse
import csv
import json
import os
import random
import string

FIRST = ("Jean Marie Pierre Nathalie Isabelle Sylvie Catherine Philippe Michel Alain Patrick Nicolas Christophe "
         "Stéphane Sandrine Valérie Céline Julien Aurélie Émilie Thierry Éric Pascal Frédéric Laurence Véronique "
         "Christine Martine Françoise Monique Bernard Daniel Gérard Jacques René Roger Claude Georges Henri André "
         "Lucien Marcel Denise Yvette Simone Jeanne Germaine Josette Ginette Odette Gisèle Mathieu Guillaume "
         "Sébastien Romain Maxime Kévin Anthony Jérémy Mélanie Sophie Laetitia Vanessa Élodie Camille Manon Léa "
         "Chloé Inès Sarah Lucas Hugo Théo Nathan Enzo Louis Gabriel Jules Raphaël Arthur Léo Adam Mohamed Karim "
         "Nadia Fatima Yasmine Rachid Agnès Brigitte Chantal Colette Danielle Dominique Hélène Jacqueline Josiane "
         "Mireille Nicole Paulette Suzanne Thérèse Yves Serge Didier Bruno Olivier Vincent Laurent Franck").split()
LAST = ("Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre Leroy Roux "
        "David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefèvre Faure "
        "Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia Perrin Robin Clément Morin "
        "Henry Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont Lemaire Noël Meyer Dufour Meunier Brun "
        "Blanchard Giraud Joly Rivière Brunet Gaillard Barbier Arnaud Martinez Roche Renard Schmitt Leroux Colin "
        "Vidal Caron Picard Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Bourgeois Benoit Leclerc Rolland "
        "Leclercq Lecomte Lopez Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis Moulin Deschamps Huet "
        "Vasseur Perez Boucher Fleury Royer Klein Jacquet Poirier Marty Aubry Guyot Carré Renault Charpentier "
        "Ménard Maillard Baron Bertin Bailly Hervé Schneider Fernandez Collet Léger Bouvier Prévost Millet Perrot "
        "Cousin Germain Breton Besson Langlois Pelletier Lévêque Perrier Leblanc Barre Lebrun Weber Mallet Hamon "
        "Boulanger Jacob Monnier Michaud Guichard Gillet Poulain Tessier Chauvin Bouchet Humbert Reynaud Pichon "
        "Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte").split()
MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DIAG = ["C50.9", "C43.5", "C18.7", "C61", "C34.1", "D48.5", "C44.3", "C56", "C53.9", "C67.2"]
NOTES_CLEAN = [
    "Carcinome canalaire infiltrant, grade II, marges saines.",
    "Biopsie réalisée sous anesthésie locale, suites simples.",
    "Pas de récidive à 5 ans, surveillance annuelle.",
    "Mélanome superficiel extensif, Breslow 0,8 mm, pas d'ulcération.",
    "Lésion de 12 mm au quadrant supéro-externe, ACR 4.",
    "Contrôle à 3 mois, traitement par tamoxifène poursuivi.",
    "Immunohistochimie : RE+ RP+ HER2-, Ki-67 à 20 %.",
    "Exérèse complète, recoupe à 2 mm, curage négatif (0N+/12).",
    "Mutation BRAF V600E détectée, pas de mutation NRAS.",
    "Patient adressé par le service de dermatologie pour avis.",
    "Compte rendu validé par le pathologiste senior, relecture faite.",
    "Stade pT2N0M0, emboles vasculaires absents.",
]
EVENTS = ["consultation", "biopsie", "exérèse", "scanner", "IRM", "chimiothérapie"]


def nir(r, key=True):
    sex = r.choice("12")
    yy = "%02d" % r.randint(30, 99)
    mm = "%02d" % r.randint(1, 12)
    dept = "%02d" % r.randint(1, 95)
    commune = "%03d" % r.randint(1, 899)
    order = "%03d" % r.randint(1, 999)
    body = sex + yy + mm + dept + commune + order
    k = 97 - int(body) % 97
    return body + ("%02d" % k if key else "")


def nir_written(r):
    n = nir(r, key=r.random() < 0.8)
    groups = [n[0], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13]] + ([n[13:15]] if len(n) == 15 else [])
    sep = r.choice([" ", ".", "-", "", " "])
    if len(n) == 13 and sep == "":
        sep = " "  # a bare 13-digit string is a weak form: tested in its own column
    return sep.join(groups)


def phone(r):
    digits = "%d%08d" % (r.choice([1, 2, 3, 4, 5, 6, 7, 9]), r.randint(0, 99999999))
    pairs = [digits[1:3], digits[3:5], digits[5:7], digits[7:9]]
    form = r.randrange(6)
    if form == 0:
        return "0" + digits[0] + " " + " ".join(pairs)
    if form == 1:
        return "0" + digits[0] + "." + ".".join(pairs)
    if form == 2:
        return "+33 " + digits[0] + " " + " ".join(pairs)
    if form == 3:
        return "(+33) " + digits[0] + " " + " ".join(pairs)
    if form == 4:
        return "+33 (0)" + digits[0] + " " + " ".join(pairs)
    return "0" + digits


def stripped_mobile(r):
    return "%d%08d" % (r.choice([6, 7]), r.randint(0, 99999999))


def birth(r):
    y, m, d = r.randint(1925, 2005), r.randint(1, 12), r.randint(1, 28)
    form = r.randrange(6)
    if form == 0:
        return "%d %s %d" % (d, MOIS[m - 1], y)
    if form == 1:
        return "%02d/%02d/%02d" % (d, m, y % 100)
    if form == 2:
        return "%d%02d%02d" % (y, m, d)
    if form == 3:
        return "%02d/%02d/%d" % (d, m, y)
    if form == 4:
        return "%s %d, %d" % (MONTHS[m - 1], d, y)
    return "%d-%02d-%02d" % (y, m, d)


def iban(r, cc, length):
    bban = "".join(r.choice(string.digits) for _ in range(length - 4))
    rearranged = bban + cc + "00"
    num = int("".join(str(int(ch, 36)) for ch in rearranged))
    check = 98 - num % 97
    s = "%s%02d%s" % (cc, check, bban)
    if r.random() < 0.5:
        s = " ".join(s[i:i + 4] for i in range(0, len(s), 4))
    return s


def be_nn(r):
    yy, mm, dd = r.randint(30, 99), r.randint(1, 12), r.randint(1, 28)
    seq = r.randint(1, 997)
    first = int("%02d%02d%02d%03d" % (yy, mm, dd, seq))
    return "%02d.%02d.%02d-%03d.%02d" % (yy, mm, dd, seq, 97 - first % 97)


def dni(r):
    n = r.randint(10000000, 99999999)
    return "%d%s" % (n, "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23])


def codice_fiscale(r):
    odd = dict(zip(string.digits + string.ascii_uppercase,
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6,
                    8, 12, 14, 16, 10, 22, 25, 24, 23]))
    even = dict(zip(string.digits + string.ascii_uppercase, list(range(10)) + list(range(26))))
    body = ("".join(r.choice(string.ascii_uppercase) for _ in range(6)) + "%02d" % r.randint(30, 99)
            + r.choice("ABCDEHLMPRST") + "%02d" % r.randint(1, 28) + r.choice(string.ascii_uppercase)
            + "%03d" % r.randint(1, 999))
    total = sum(odd[ch] if i % 2 == 0 else even[ch] for i, ch in enumerate(body))
    return body + chr(ord("A") + total % 26)


def avs(r):
    digits = "756" + "%09d" % r.randint(0, 999999999)
    total = sum(int(ch) * (1 if i % 2 == 0 else 3) for i, ch in enumerate(digits))
    full = digits + str((10 - total % 10) % 10)
    return "%s.%s.%s.%s" % (full[:3], full[3:7], full[7:11], full[11:])


def nhs(r):
    while True:
        d = [r.randint(0, 9) for _ in range(9)]
        check = 11 - sum(x * (10 - i) for i, x in enumerate(d)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, d)) + str(check)
            return "%s %s %s" % (s[:3], s[3:6], s[6:])


VERHOEFF_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
              [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
              [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
              [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VERHOEFF_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
              [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
              [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def luxembourg(r):
    """Luxembourg's matricule, written YYYY MMDD XXX CC: a Luhn then a Verhoeff check digit."""
    body = "%04d%02d%02d%03d" % (r.randint(1930, 2005), r.randint(1, 12), r.randint(1, 28), r.randint(0, 999))
    total = 0
    for k, ch in enumerate(reversed(body)):
        v = int(ch) * (2 if k % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    luhn = (10 - total % 10) % 10
    c = 0
    for k, ch in enumerate(reversed(body)):
        c = VERHOEFF_D[c][VERHOEFF_P[(k + 1) % 8][int(ch)]]
    full = body + str(luhn) + str(VERHOEFF_INV[c])
    return "%s %s %s %s" % (full[:4], full[4:8], full[8:11], full[11:])


def national(r):
    return r.choice([be_nn, dni, codice_fiscale, avs, nhs, luxembourg])(r)


def ipv6(r):
    if r.random() < 0.5:
        return "2001:db8:%x::%x" % (r.randint(0, 0xffff), r.randint(1, 0xffff))
    return ":".join("%x" % r.randint(0, 0xffff) for _ in range(8))


def ipv4(r):
    return "%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))


def person(r):
    f, l = r.choice(FIRST), r.choice(LAST)
    return f, l


def name_in_text(r):
    f, l = person(r)
    form = r.randrange(6)
    if form == 0:
        return "Courrier adressé à %s %s pour suite de prise en charge." % (f, l)
    if form == 1:
        return "Patiente %s %s, vue en consultation." % (l.upper(), f)
    if form == 2:
        return "Relu par le Dr %s, conclusion inchangée." % l
    if form == 3:
        return "Contact famille : Mme %s, joignable en journée." % l
    if form == 4:
        return "Identité vérifiée : %s, %s." % (l, f)
    return "%s %s signale une douleur persistante." % (f, l.upper())


def birth_in_text(r):
    b = birth(r)
    return r.choice(["Patient né le %s, suivi depuis 2015." % b, "Patiente née le %s à Lyon." % b,
                     "DDN : %s ; antécédents familiaux." % b, "Born on %s, referred for a second opinion." % b])


def dicom_pn(r):
    f, l = person(r)
    return r.choice(["%s^%s" % (l.upper(), f.upper()), "%s^%s^^" % (l, f), "%s^%s" % (l.upper(), f)])


def file_with_name(r):
    f, l = person(r)
    return r.choice(["%s_%s_biopsy_%d.tif" % (l.upper(), f[0], r.randint(2010, 2023)),
                     "%s_%s_HES_%d.svs" % (l.upper(), f[0], r.randint(1, 9)),
                     "%s_%s_%d.ndpi" % (l.lower(), f.lower(), r.randint(2010, 2023))])


def hospital_number(r):
    return str(r.randint(10 ** 7, 10 ** 10 - 1))


def hex_id(r):
    return "%032x" % r.getrandbits(128)


def event_date(r):
    return "%d-%02d-%02d" % (r.randint(2015, 2023), r.randint(1, 12), r.randint(1, 28))


def age_band(r):
    lo = r.choice([20, 30, 40, 50, 60, 70, 80])
    return "%d-%d" % (lo, lo + 9)


def finess(r):
    return "%02d%07d" % (r.choice([69, 75, 13, 31, 33, 59, 67, 76]), r.randint(0, 9999999))


# Each file: column name -> (kind or None, generator).
FILES = {
    "admin_extract.csv": {
        "patient_id": ("patient_id", hospital_number),
        "num_secu": ("nir", nir_written),
        "champ_libre_1": ("nir", nir_written),
        "telephone": ("phone", phone),
        "contact_2": ("phone", phone),
        "courriel": ("email", lambda r: "%s.%s@exemple.fr" % (r.choice(FIRST).lower(), r.choice(LAST).lower())),
        "date_naissance": ("birth_date", birth),
        "info_3": ("birth_date", birth),
        "referent": ("names", lambda r: r.choice(LAST)),
        "medecin_2": ("names", lambda r: r.choice(LAST).upper()),
        "sexe": (None, lambda r: r.choice("MF")),
        "tranche_age": (None, age_band),
        "finess_etablissement": (None, finess),
        "date_admission": (None, event_date),
        "diagnostic_principal": (None, lambda r: r.choice(DIAG)),
    },
    "mobiles_excel.csv": {
        "id_patient": ("patient_id", hospital_number),
        "portable_secours": ("phone", stripped_mobile),
        "ref_contact": ("phone", stripped_mobile),
        "nir_sans_cle": ("nir", lambda r: nir(r, key=False)),
        "valeur_4": ("nir", lambda r: nir(r, key=False)),
        "poids_kg": (None, lambda r: "%.1f" % r.uniform(45, 110)),
        "timestamp_ms": (None, lambda r: str(r.randint(1_600_000_000_000, 1_760_000_000_000))),
        "fabricant": (None, lambda r: r.choice(["Siemens", "Olympus", "Leica", "Zeiss", "Hamamatsu"])),
        "taille_cm": (None, lambda r: str(r.randint(150, 195))),
    },
    "pathology_reports.csv": {
        "pseudo_id": (None, hex_id),
        "compte_rendu": ("names", name_in_text),
        "commentaire": ("birth_date", birth_in_text),
        "conclusion": (None, lambda r: r.choice(NOTES_CLEAN)),
        "evenement": (None, lambda r: r.choice(EVENTS)),
        "date_evenement": (None, event_date),
        "code_cim10": (None, lambda r: r.choice(DIAG)),
    },
    "billing.csv": {
        "code_patient": ("patient_id", hospital_number),
        "ref_paiement": ("iban", lambda r: r.choice([iban(r, "FR", 27), iban(r, "DE", 22), iban(r, "BE", 16)])),
        "montant_eur": (None, lambda r: "%.2f" % r.uniform(10, 5000)),
        "acte_ccam": (None, lambda r: r.choice(["QZFA001", "JKHD001", "ZCQK002", "YYYY600"])),
        "source": ("ip", lambda r: r.choice([ipv6(r), ipv4(r)])),
        "poste": ("ip", ipv6),
    },
    "dicom_index.csv": {
        "study_uid_hash": (None, hex_id),
        "PatientName": ("names", dicom_pn),
        "personne": ("names", dicom_pn),
        "Modality": (None, lambda r: r.choice(["CT", "MR", "PT", "SM"])),
        "BodyPartExamined": (None, lambda r: r.choice(["CHEST", "BREAST", "SKIN", "ABDOMEN"])),
        "SliceThickness": (None, lambda r: "%.1f" % r.uniform(0.5, 5)),
    },
    "slides.csv": {
        "fichier_origine": ("names", file_with_name),
        "lame": (None, lambda r: "slide_%06d.tif" % r.randint(0, 999999)),
        "lame_centre": (None, lambda r: "C%02d_S%05d.tif" % (r.randint(1, 9), r.randint(0, 99999))),
        "coloration": (None, lambda r: r.choice(["HES", "HE", "IHC", "PAS"])),
        "scanner": (None, lambda r: r.choice(["Aperio GT450", "Hamamatsu S360", "3DHistech P1000"])),
        "grossissement": (None, lambda r: r.choice(["x20", "x40"])),
    },
    "european_patients.csv": {
        "document": ("national_id", national),
        "numero_national": ("national_id", national),
        "pays": (None, lambda r: r.choice(["BE", "ES", "IT", "CH", "GB"])),
        "etude": (None, lambda r: "SARC-%04d" % r.randint(0, 9999)),
        "version_protocole": (None, lambda r: "%d.%d.%d" % (r.randint(1, 3), r.randint(0, 9), r.randint(0, 9))),
        "duree_suivi": (None, lambda r: "%d mois" % r.randint(1, 120)),
        "stade": (None, lambda r: r.choice(["pT1N0M0", "pT2N1M0", "pT3N0M0", "pT4N2M1"])),
    },
    "clean_registry.csv": {
        "pseudo_id": (None, hex_id),
        "tranche_age": (None, lambda r: r.choice(["40-59", "60-79", "80+"])),
        "sexe": (None, lambda r: r.choice("MF")),
        "taille_tumeur_mm": (None, lambda r: "%.1f" % r.uniform(2, 80)),
        "ki67_pct": (None, lambda r: str(r.randint(1, 90))),
        "coloration": (None, lambda r: r.choice(["HES", "IHC"])),
        "conclusion": (None, lambda r: r.choice(NOTES_CLEAN)),
        "lame": (None, lambda r: "slide_%06d.tif" % r.randint(0, 999999)),
    },
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args()
    r = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    truth = {}
    for name, cols in FILES.items():
        with open(os.path.join(a.out, name), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(list(cols))
            for _ in range(a.rows):
                w.writerow([gen(r) for _, gen in cols.values()])
        truth[name] = {c: kind for c, (kind, _) in cols.items()}
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
