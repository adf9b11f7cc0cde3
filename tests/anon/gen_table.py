#!/usr/bin/env python3
"""gen_table.py: seeded synthetic patient-like tables for the anonymity tests and benchmark.

The anon tests need data that looks like what hospitals export, with known answers: a clean table that must
pass the check, a raw table full of direct identifiers, and a "planted" table where identifiers hide in
innocuously named columns in a known number of rows. Everything is derived from --seed (stdlib only), so a
failing test can be reproduced byte for byte. No real person's data is involved.

    gen_table.py --kind clean|raw|planted --rows N --seed S [--out FILE] [--expect FILE]

--expect writes, for the planted table, {"column": ["rule", count], ...}: what the check must report.
"""
import argparse
import csv
import json
import random
import sys

SURNAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"]
FIRST_NAMES = ["Jean", "Marie", "Pierre", "Sophie", "Nicolas", "Isabelle", "Julien", "Camille", "Hélène", "Élodie",
               "François", "Céline", "Thomas", "Claire", "Louis", "Emma"]
TOWNS = ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Rennes", "Ajaccio", "Bastia", "Brest"]
STREETS = ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "place de la République", "rue Nationale"]
DEPARTMENTS = ["75", "69", "13", "33", "59"]
DIAGNOSIS_GROUPS = ["cardio", "pneumo", "neuro", "onco"]
ICD10 = ["I21.0", "I50.9", "J18.9", "C50.9", "E11.9", "N18.5", "G40.9", "F32.1", "K35.8", "S72.0"]
PHRASES = ["douleur thoracique", "pas de fièvre", "bilan sanguin normal", "suivi à trois mois",
           "traitement bien toléré", "dyspnée d'effort", "surveillance tensionnelle", "examen clinique sans particularité"]
SEXES = ["M", "F"]


def nir(rng, corsica=False):
    """A French NIR (13 digits + key = 97 - n mod 97; 2A/2B count as 19/18)."""
    sex = rng.choice("12")
    yy = "%02d" % rng.randrange(100)
    mm = "%02d" % rng.randint(1, 12)
    dept = rng.choice(["2A", "2B"]) if corsica else "%02d" % rng.choice([1, 13, 33, 59, 69, 75, 92])
    rest = "%03d%03d" % (rng.randint(1, 999), rng.randint(1, 999))
    body = sex + yy + mm + dept + rest
    key = 97 - int(body.replace("2A", "19").replace("2B", "18")) % 97
    return body + "%02d" % key


def phone(rng):
    digits = "0%d%08d" % (rng.choice([1, 2, 3, 4, 5, 6, 7, 9]), rng.randrange(10 ** 8))
    pairs = [digits[i:i + 2] for i in range(0, 10, 2)]
    style = rng.randrange(5)
    if style == 0:
        return " ".join(pairs)
    if style == 1:
        return ".".join(pairs)
    if style == 2:
        return digits
    if style == 3:
        return "+33 " + digits[1] + " " + " ".join(pairs[1:])
    return "+33 (0)" + digits[1:]


def email(rng):
    return "%s.%s@%s" % (rng.choice(FIRST_NAMES).lower().replace("é", "e").replace("è", "e").replace("ç", "c"),
                         rng.choice(SURNAMES).lower(), rng.choice(["gmail.com", "orange.fr", "chu-exemple.fr"]))


def birth_date(rng):
    return "%02d/%02d/%04d" % (rng.randint(1, 28), rng.randint(1, 12), rng.randint(1930, 2005))


def iso_date(rng, lo=2015, hi=2023):
    return "%04d-%02d-%02d" % (rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28))


def ipv4(rng):
    return "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randrange(256), rng.randrange(256), rng.randint(1, 254))


def note(rng):
    return ", ".join(rng.sample(PHRASES, 2))


def note_with_name(rng):
    return rng.choice(["vu par Dr %s ce jour, %s", "appel de Mme %s, %s", "patient adressé par le Dr %s, %s"]) % (
        rng.choice(SURNAMES), note(rng)) if rng.random() < 0.7 else \
        "%s %s revu en consultation" % (rng.choice(FIRST_NAMES), rng.choice(SURNAMES).upper())


def clean_rows(rng, n):
    """k >= 5 and both labels in every class over (age_band, sexe, departement, diagnostic_group)."""
    header = ["pid", "age_band", "sexe", "departement", "diagnostic_group", "annee_inclusion", "creatinine",
              "commentaire", "label"]
    rows = []
    while len(rows) < n:
        band = rng.randrange(2, 9) * 10
        qi = ("%d-%d" % (band, band + 9), rng.choice(SEXES), rng.choice(DEPARTMENTS), rng.choice(DIAGNOSIS_GROUPS))
        for j in range(rng.randint(5, 9)):
            rows.append(["%032x" % rng.getrandbits(128), *qi, str(rng.randint(2015, 2023)),
                         "%.2f" % rng.uniform(0.5, 1.5), note(rng), str(j % 2)])
    rows = rows[:n]
    # Trimming may leave the last class short: give its rows to the first class's values.
    last = tuple(rows[-1][1:5])
    count = sum(1 for r in rows if tuple(r[1:5]) == last)
    if count < 5:
        for r in rows:
            if tuple(r[1:5]) == last:
                r[1:5] = rows[0][1:5]
    rng.shuffle(rows)
    return header, rows


def raw_rows(rng, n):
    """Several visits per subject: identifiers of every kind, dates, quasi-identifiers."""
    header = ["ipp", "nom", "prenom", "date_naissance", "lieu_naissance", "nir", "telephone", "email", "adresse",
              "code_postal", "sexe", "age", "diagnostic", "date_admission", "date_sortie", "ip_connexion",
              "commentaire", "label"]
    rows = []
    subject = 0
    while len(rows) < n:
        subject += 1
        ipp = "%08d" % (10000000 + subject)
        ident = [ipp, rng.choice(SURNAMES), rng.choice(FIRST_NAMES), birth_date(rng), rng.choice(TOWNS),
                 nir(rng, corsica=rng.random() < 0.1), phone(rng), email(rng),
                 "%d %s" % (rng.randint(1, 120), rng.choice(STREETS)),
                 "%s%03d" % (rng.choice(DEPARTMENTS), rng.randrange(1000)), rng.choice(SEXES),
                 str(rng.randint(18, 95))]
        for _ in range(rng.randint(1, 4)):
            if len(rows) >= n:
                break
            adm = iso_date(rng)
            rows.append(ident + [rng.choice(ICD10), adm, adm, ipv4(rng),
                                 note_with_name(rng) if rng.random() < 0.3 else note(rng), str(rng.randint(0, 1))])
    return header, rows


def planted_rows(rng, n):
    """The clean table plus columns with innocent names where a few rows hide an identifier."""
    header, rows = clean_rows(rng, n)
    plants = [("contact", "email", email), ("info", "phone", phone), ("ref", "nir", lambda r: nir(r)),
              ("ref_corse", "nir", lambda r: nir(r, corsica=True)), ("source", "ipv4", ipv4),
              ("obs", "free_text_names", note_with_name)]
    expect = {}
    for col, rule, make in plants:
        hits = set(rng.sample(range(n), min(n, 3 + rng.randrange(5))))
        header.append(col)
        for i, r in enumerate(rows):
            r.append(make(rng) if i in hits else (note(rng) if col == "obs" else ""))
        expect[col] = [rule, len(hits)]
    header.append("d1")
    for r in rows:
        r.append(birth_date(rng))
    expect["d1"] = ["date_of_birth", n]
    return header, rows, expect


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=["clean", "raw", "planted"], required=True)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-")
    ap.add_argument("--expect")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    expect = {}
    if args.kind == "clean":
        header, rows = clean_rows(rng, args.rows)
    elif args.kind == "raw":
        header, rows = raw_rows(rng, args.rows)
    else:
        header, rows, expect = planted_rows(rng, args.rows)
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="", encoding="utf-8")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    if out is not sys.stdout:
        out.close()
    if args.expect:
        with open(args.expect, "w", encoding="utf-8") as f:
            json.dump(expect, f)


if __name__ == "__main__":
    main()
