// A small client of microcred written against the types openapi-typescript generates from openapi/openapi.json
// (tests/contract/test_typescript.py generates ./schema.d.ts and runs `tsc --noEmit` on this file).
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type IssueBody = paths["/microcredentials"]["post"]["requestBody"]["content"]["application/json"];
type Report = paths["/credentials/verify"]["post"]["responses"]["200"]["content"]["application/json"];
type Page = paths["/credentials"]["get"]["responses"]["200"]["content"]["application/json"];
type Revoke = paths["/credentials/status"]["post"]["requestBody"]["content"]["application/json"];
type Problem = Schemas["Problem"];

const record: Schemas["MicroCredentialInput"] = {
  primaryLanguage: "en",
  title: { en: "Data literacy" },
  awardingBodies: [{ legalName: { en: "University of Zed" }, country: "IE" }],
  learningOutcomes: [{ text: { en: "Reads a chart critically" } }],
  workload: { ects: 5 },
  level: { eqf: 6 },
  assessment: { type: "written-examination" },
  participation: { mode: "online" },
  qualityAssurance: [{ type: "programme-quality-assurance", title: { en: "Internal QA" },
                       agency: { legalName: { en: "QQI" }, country: "IE" } }],
  learner: { givenName: { en: "Ana" }, familyName: { en: "Andromeda" }, email: "ana@example.org" },
};

const body: IssueBody = { format: "ob3", proof: "eddsa-rdfc-2022", microcredential: record };

export async function issueAndVerify(base: string, key: string): Promise<Report["verdict"]> {
  const headers = { "content-type": "application/json", authorization: `Bearer ${key}` };
  const issued = await fetch(`${base}/microcredentials`, { method: "POST", headers, body: JSON.stringify(body) });
  if (issued.status !== 201) {
    const problem = (await issued.json()) as Problem;
    throw new Error(`${problem.code}: ${problem.detail}`);
  }
  const credential = (await issued.json()) as { id: string };
  const page = (await (await fetch(`${base}/credentials?limit=10`, { headers })).json()) as Page;
  const found: string[] = page.items.map((item) => item.id);
  const revoke: Revoke = { credentialId: found[0] ?? credential.id, status: "revoked" };
  await fetch(`${base}/credentials/status`, { method: "POST", headers, body: JSON.stringify(revoke) });
  const report = (await (await fetch(`${base}/credentials/verify`, {
    method: "POST", headers, body: JSON.stringify({ verifiableCredential: credential }),
  })).json()) as Report;
  const failed: string[] = report.checks.filter((c) => c.outcome === "failed").map((c) => c.id);
  return failed.length ? "not valid" : report.verdict;
}
