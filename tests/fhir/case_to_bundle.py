#!/usr/bin/env python3
"""Writes the FHIR R4 bundle of an example case (tests/fhir/bundles/NAME.json) the way a record
system would send the same data: Patient, Observations by LOINC with UCUM quantities, LOINC-coded
questionnaire responses (PHQ-9, GAD-7), MedicationStatements by ATC or RxNorm (one through a
contained Medication), Conditions by ICD-10, supplements by the NeuroFlux strategy code system,
and NeuroFlux-coded symptoms, lifestyle and stressors (docs/fhir.md). Run once per example; the
bundles are committed, and the test evaluates each against its case.

  tests/fhir/case_to_bundle.py examples/perimenopause.json > tests/fhir/bundles/perimenopause.json
"""
import datetime
import glob
import json
import os
import sys
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LOINC, UCUM, SNOMED = "http://loinc.org", "http://unitsofmeasure.org", "http://snomed.info/sct"
NF = "http://neuroflux.example/"
# Units as UCUM codes; others (uIU/mL, µg/dL) go as `unit` text only, as many labs send them.
UCUM_CODES = {"ug/L", "ng/mL", "mm/h", "%", "nmol/L", "ug/dL", "mg/L", "mmol/L", "umol/L", "pmol/L",
              "mL/min/{1.73_m2}", "m[IU]/L", "mg/dL", "pg/mL", "g/dL", "u[IU]/mL"}
PHQ_ANSWERS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def knowledge():
    nodes = {}
    for path in glob.glob(os.path.join(ROOT, "knowledge", "**", "*.json"), recursive=True):
        data = json.load(open(path))
        if isinstance(data, dict):
            for node in data.get("nodes", []):
                nodes[node["id"]] = node
    return nodes


class Builder:
    def __init__(self, case, kb, as_of):
        self.case, self.kb, self.as_of = case, kb, as_of
        self.entries = []
        self.seed = uuid.uuid5(uuid.NAMESPACE_URL, "neuroflux/" + str(case["case_id"]))
        self.patient_ref = None

    def add(self, resource):
        n = len(self.entries)
        resource["id"] = "%s-%d" % (resource["resourceType"].lower(), n)
        url = "urn:uuid:" + str(uuid.uuid5(self.seed, str(n)))
        self.entries.append({"fullUrl": url, "resource": resource})
        return url

    def observation(self, coding, value, category="laboratory", when=None):
        obs = {"resourceType": "Observation", "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                         "code": category}]}],
               "code": {"coding": [coding]}, "subject": {"reference": self.patient_ref},
               "effectiveDateTime": when or self.as_of}
        obs.update(value)
        return self.add(obs)

    def patient(self):
        p = self.case["patient"]
        born = datetime.date.fromisoformat(self.as_of[:10])
        born = born.replace(year=born.year - int(p["age_years"])) - datetime.timedelta(days=40)
        self.patient_ref = self.add({"resourceType": "Patient", "gender": p["sex"], "birthDate": born.isoformat(),
                                     "name": [{"family": "Example", "given": ["Case %s" % self.case["case_id"]]}]})
        exam = "exam"
        if p.get("pregnant") is not None:
            self.observation({"system": LOINC, "code": "82810-3", "display": "Pregnancy status"},
                             {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "77386006" if p["pregnant"] else "60001007"}]}},
                             "social-history")
        if p.get("lactating") is not None:
            self.observation({"system": LOINC, "code": "63895-7", "display": "Breastfeeding status"},
                             {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA29252-6" if p["lactating"] else "LA29253-4"}]}},
                             "social-history")
        if p.get("gestational_age_weeks") is not None:
            self.observation({"system": LOINC, "code": "49051-6", "display": "Gestational age in weeks"},
                             {"valueQuantity": {"value": p["gestational_age_weeks"], "unit": "wk", "system": UCUM, "code": "wk"}}, exam)
        if p.get("bmi") is not None:
            self.observation({"system": LOINC, "code": "39156-5", "display": "Body mass index (BMI) [Ratio]"},
                             {"valueQuantity": {"value": p["bmi"], "unit": "kg/m2", "system": UCUM, "code": "kg/m2"}}, "vital-signs")
        if p.get("menopausal_status"):
            self.observation({"system": NF + "patient", "code": "menopausal_status"}, {"valueString": p["menopausal_status"]}, exam)

    def labs(self):
        for lab in self.case.get("labs", []):
            node = self.kb.get(lab.get("test"), {})
            loinc = lab.get("loinc") or node.get("loinc")
            coding = {"system": LOINC, "code": loinc} if loinc else {"system": NF + "lab", "code": lab["test"]}
            if node.get("label"):
                coding["display"] = node["label"]
            quantity = {"value": lab["value"]}
            if "unit" in lab:
                quantity["unit"] = lab["unit"]
                if lab["unit"] in UCUM_CODES:
                    quantity.update({"system": UCUM, "code": lab["unit"]})
            when = lab.get("date", self.as_of[:10])
            if lab.get("collection_time"):
                when += "T" + lab["collection_time"] + ":00+01:00"
            self.observation(coding, {"valueQuantity": quantity}, "laboratory", when)

    def questionnaires(self):
        for qid, q in self.case.get("questionnaires", {}).items():
            node = self.kb[qid]
            if "items" in q:
                self.response(qid, node, q["items"])
            if "total" in q:
                self.observation({"system": LOINC, "code": node["loinc"]}, {"valueInteger": q["total"]}, "survey")

    def response(self, qid, node, items):
        coded = "item_loinc" in node
        answers = []
        for n, value in enumerate(items):
            if coded:
                answers.append({"linkId": "/" + node["item_loinc"][n],
                                "answer": [{"valueCoding": {"system": LOINC, "code": PHQ_ANSWERS[value]}}]})
            else:
                answers.append({"linkId": str(n + 1), "answer": [{"valueInteger": value}]})
        url = "http://loinc.org/q/" + node["panel_loinc"] if coded else NF + "Questionnaire/" + qid
        self.add({"resourceType": "QuestionnaireResponse", "questionnaire": url, "status": "completed",
                  "subject": {"reference": self.patient_ref}, "authored": self.as_of, "item": answers})

    def scores(self):
        for section, system in (("symptoms", "symptom"), ("stressors", "stressor")):
            for sid, value in self.case.get(section, {}).items():
                self.observation({"system": NF + system, "code": sid}, {"valueInteger": value}, "survey")
        for lid, value in self.case.get("lifestyle", {}).items():
            if isinstance(value, bool):
                v = {"valueBoolean": value}
            elif isinstance(value, str):
                v = {"valueString": value}
            elif isinstance(value, int):
                v = {"valueInteger": value}
            else:
                v = {"valueQuantity": {"value": value}}
            self.observation({"system": NF + "lifestyle", "code": lid}, v, "social-history")

    def medications(self):
        for n, med in enumerate(self.case.get("medications", [])):
            node = self.kb.get(med.get("id"), {})
            codings = []
            if node.get("rxnorm"):
                codings.append({"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": node["rxnorm"]})
            atc = med.get("atc") or node.get("atc")
            if atc and not codings:
                codings.append({"system": "http://www.whocc.no/atc", "code": atc})
            code = {"coding": codings}
            if med.get("name"):
                code["text"] = med["name"]
            statement = {"resourceType": "MedicationStatement", "status": "active",
                         "subject": {"reference": self.patient_ref}}
            if n % 2 == 1:  # every other one through a contained Medication, as some systems send them
                statement["contained"] = [{"resourceType": "Medication", "id": "med", "code": code}]
                statement["medicationReference"] = {"reference": "#med"}
            else:
                statement["medicationCodeableConcept"] = code
            if med.get("dose"):
                statement["dosage"] = [{"text": med["dose"]}]
            self.add(statement)

    def supplements(self):
        sup = self.case.get("supplements", {})
        for sid in sup.get("current", []):
            self.add({"resourceType": "MedicationStatement", "status": "active", "subject": {"reference": self.patient_ref},
                      "medicationCodeableConcept": {"coding": [{"system": NF + "strategy", "code": sid}],
                                                    "text": self.kb[sid]["label"]}})
        for sid in sup.get("requested", []):
            self.add({"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
                      "subject": {"reference": self.patient_ref},
                      "medicationCodeableConcept": {"coding": [{"system": NF + "strategy", "code": sid}],
                                                    "text": self.kb[sid]["label"]}})

    def conditions(self):
        for cond in self.case.get("conditions", []):
            code = cond.get("icd10") or self.kb[cond["id"]]["icd10"].split(",")[0].split("-")[0].strip()
            self.add({"resourceType": "Condition",
                      "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code}]},
                      "subject": {"reference": self.patient_ref}})

    def bundle(self):
        for step in (self.patient, self.labs, self.questionnaires, self.scores, self.medications, self.supplements,
                     self.conditions):
            step()
        return {"resourceType": "Bundle", "id": "example-" + str(self.case["case_id"]), "type": "collection",
                "timestamp": self.as_of, "entry": self.entries}


def main():
    case = json.load(open(sys.argv[1]))
    dates = [lab["date"] for lab in case.get("labs", []) if "date" in lab]
    as_of = (max(dates) if dates else "2026-11-02") + "T09:00:00+01:00"
    print(json.dumps(Builder(case, knowledge(), as_of).bundle(), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
