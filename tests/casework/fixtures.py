"""A fixture sanctions list (FtM JSON lines and a targets.simple.csv table) and perpetrators with
known truth: names in Latin, Cyrillic, Arabic and Chinese script, transliteration variants,
reordered names, aliases, legal forms, vessels by IMO, shared birth dates and near-misses.

Each perpetrator carries `who` (the real identity behind it): two perpetrators are the same
when their `who` is; a screening is right when it matches exactly `LISTED[who]`. Used by the
tests and by `bench/casework.py`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def _e(eid: str, schema: str, **props: Any) -> dict[str, Any]:
    return {"id": eid, "schema": schema, "datasets": ["fixture_sdn"],
            "properties": {k: (v if isinstance(v, list) else [v]) for k, v in props.items()}}


FTM_ENTITIES = [
    _e("fx-petrov", "Person", name="Ivan Petrov", alias="Иван Петров", birthDate="1970-03-02", nationality="ru", gender="male",
       passportNumber="AB1234567", programId="GLOMAG", topics="sanction"),
    _e("fx-petrov-ua", "Person", name="Ivan Petrov", birthDate="1985-11-20", nationality="ua", gender="male", topics="sanction"),
    _e("fx-zhang", "Person", name="Zhang Wei", alias="张伟", birthDate="1968-05-01", nationality="cn", topics="sanction"),
    _e("fx-wang", "Person", name="王芳", birthDate="1972-09-09", nationality="cn", gender="female", topics="sanction"),
    _e("fx-rashid", "Person", name="Abdullah Al-Rashid", alias="عبد الله الراشد", birthDate="1975-04-12", nationality="sa", topics="sanction"),
    _e("fx-goldensea", "Company", name="Golden Sea Fishing Co., Ltd.", registrationNumber="0105551234567", jurisdiction="th", topics="sanction"),
    _e("fx-romashka", "Company", name="ООО Ромашка", alias="Romashka LLC", registrationNumber="1027700132195", jurisdiction="ru", topics="sanction"),
    _e("fx-oceanglory", "Vessel", name="Ocean Glory", imoNumber="IMO9074729", flag="pa", topics="sanction"),
    _e("fx-gonzalez", "Person", name="Maria Gonzalez", birthDate="1980-07-14", nationality="mx", gender="female", topics="sanction"),
    _e("fx-kovalenko", "Person", name="Olena Kovalenko", alias="Олена Коваленко", birthDate="1979-02-10", nationality="ua", topics="sanction"),
    _e("fx-blueocean", "Company", name="Blue Ocean Manpower Sdn Bhd", jurisdiction="my", topics="sanction"),
    _e("fx-nguyen", "Person", name="Nguyen Van Minh", birthDate="1965-10-01", nationality="vn", topics="sanction"),
    # a sanction record and an address: not matchable, skipped by the loader
    {"id": "fx-sanction-1", "schema": "Sanction", "datasets": ["fixture_sdn"], "properties": {"entity": ["fx-petrov"], "program": ["GLOMAG"]}},
    {"id": "fx-address-1", "schema": "Address", "datasets": ["fixture_sdn"], "properties": {"full": ["1 Main St"]}},
]

CSV_ROWS = [
    {"id": "cx-ivanov", "schema": "Person", "name": "Sergei Ivanov", "aliases": "Сергей Иванов;Sergey Ivanov", "birth_date": "1961-01-31",
     "countries": "ru", "addresses": "", "identifiers": "", "sanctions": "UK GHR", "phones": "", "emails": "", "program_ids": "UK-GHR",
     "dataset": "fixture_csv", "first_seen": "", "last_seen": "", "last_change": ""},
    {"id": "cx-haifeng", "schema": "Vessel", "name": "Hai Feng 718", "aliases": "", "birth_date": "", "countries": "cn", "addresses": "",
     "identifiers": "IMO8814275", "sanctions": "US SDN", "phones": "", "emails": "", "program_ids": "", "dataset": "fixture_csv",
     "first_seen": "", "last_seen": "", "last_change": ""},
    {"id": "cx-sunrise", "schema": "Company", "name": "Sunrise Recruitment Agency LLC", "aliases": "", "birth_date": "", "countries": "np",
     "addresses": "", "identifiers": "", "sanctions": "", "phones": "", "emails": "", "program_ids": "", "dataset": "fixture_csv",
     "first_seen": "", "last_seen": "", "last_change": ""},
]

# who → the list entity that is really them (absent: not listed)
LISTED = {
    "petrov": "fx-petrov", "zhang": "fx-zhang", "wang": "fx-wang", "rashid": "fx-rashid", "goldensea": "fx-goldensea",
    "romashka": "fx-romashka", "oceanglory": "fx-oceanglory", "gonzalez": "fx-gonzalez", "kovalenko": "fx-kovalenko",
    "blueocean": "fx-blueocean", "ivanov": "cx-ivanov", "haifeng": "cx-haifeng", "sunrise": "cx-sunrise",
}


def _p(who: str, kind: str, name: str, **answers: Any) -> dict[str, Any]:
    return {"who": who, "perp": {"perp_kind": kind, "perp_name": name, **answers}}


def _dob(d: str) -> dict[str, Any]:
    return {"date": d, "approx": False}


PERPETRATORS: list[dict[str, Any]] = [
    _p("petrov", "person", "Petrov Ivan", perp_dob=_dob("1970-03-02"), perp_nationality=["RU"]),
    _p("petrov", "person", "Иван Петров", perp_id_docs=[{"id_doc_type": "passport", "id_doc_number": "AB 123 4567"}]),
    _p("petrov", "person", "Ivan Petroff", perp_dob=_dob("1970-03-02"), perp_aliases="Vanya\nnot known"),
    _p("petrov-other", "person", "Ivan Petrov", perp_dob=_dob("1992-06-30"), perp_nationality=["BY"]),
    _p("zhang", "person", "张伟", perp_dob=_dob("1968-05-01")),
    _p("zhang", "person", "Wei Zhang", perp_nationality=["CN"], perp_dob=_dob("1968-05-01")),
    _p("zhang-other", "person", "Zhang Wei", perp_dob=_dob("1990-12-12"), perp_nationality=["SG"], perp_gender="female"),
    _p("wang", "person", "Wang Fang", perp_dob=_dob("1972-09-09"), perp_gender="female"),
    _p("rashid", "person", "عبد الله الراشد", perp_dob=_dob("1975-04-12")),
    _p("rashid", "person", "Abdullah Alrashid", perp_nationality=["SA"], perp_dob=_dob("1975-04-12")),
    _p("goldensea", "company", "Golden Sea Fishing Company Limited", ent_jurisdiction="TH"),
    _p("goldensea", "company", "Golden Sea Fishing", ent_reg_number="0105551234567"),
    _p("romashka", "company", "Romashka OOO"),
    _p("oceanglory", "vessel", "Sea Star", vessel_imo="9074729"),
    _p("oceanglory-other", "vessel", "Ocean Glory", vessel_imo="IMO 9176187", vessel_flag="LR"),
    _p("gonzalez", "person", "Maria Gonzales", perp_dob=_dob("1980-07-14")),
    _p("gonzalez-other", "person", "Maria Gonzalez", perp_dob=_dob("1991-02-02"), perp_nationality=["ES"]),
    _p("kovalenko", "person", "Коваленко Олена", perp_dob=_dob("1979-02-10")),
    _p("ivanov", "person", "Сергей Иванов", perp_dob=_dob("1961-01-31")),
    _p("ivanov", "person", "Sergey Ivanov", perp_nationality=["RU"]),
    _p("smith", "person", "Peter Smith", perp_dob=_dob("1977-01-01")),
    _p("blueocean", "company", "Blue Ocean Manpower"),
    _p("nguyen-other", "person", "Nguyen Minh", perp_dob=_dob("1990-03-03"), perp_nationality=["US"]),
    _p("haifeng", "vessel", "Hai Feng 718", vessel_imo="8814275"),
    _p("sunrise", "company", "Sunrise Recruitment Agency"),
    _p("brightstar", "company", "Bright Star Garments Co., Ltd.", ent_reg_number="TH-998877"),
    _p("brightstar", "company", "BRIGHT STAR GARMENTS COMPANY LIMITED"),
]


def write_ftm(path: Path) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in FTM_ENTITIES), encoding="utf-8")
    return path


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_ROWS[0]))
        writer.writeheader()
        writer.writerows(CSV_ROWS)
    return path
