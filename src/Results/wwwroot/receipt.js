"use strict";
// Checks a voter's receipt against the published seal, in the browser (docs/SEALING.md, "A voter's receipt"): asks the
// results app for the ballot's proof, then trusts nothing it was told until it has checked, with WebCrypto, that the
// manifest is signed by the published key, that the proof's root is the signed manifest's, that the leaf is the
// ballot and the receipt's, and that the audit path leads from the leaf to that root.
const form = document.getElementById("lookup");
const outcome = document.getElementById("outcome");
const checks = document.getElementById("checks");
const utf8 = new TextEncoder();
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

class CheckFailed extends Error {
  constructor(check, detail) {
    super(detail);
    this.check = check;
  }
}

function concat(...parts) {
  const bytes = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

function hex(bytes) {
  return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text, check) {
  if (typeof text !== "string" || !/^[0-9a-f]{64}$/.test(text)) {
    throw new CheckFailed(check, `'${text}' is not a hash (64 lowercase hex digits)`);
  }
  return Uint8Array.from(text.match(/../g), pair => parseInt(pair, 16));
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), c => c.charCodeAt(0));
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function lastIndexOf(bytes, pattern) {
  outer: for (let i = bytes.length - pattern.length; i >= 0; i--) {
    for (let j = 0; j < pattern.length; j++) {
      if (bytes[i + j] !== pattern[j]) continue outer;
    }
    return i;
  }
  return -1;
}

// The receipt code as the server reads it: case ignored, hyphens and spaces skipped, I and L read as 1, O as 0.
function codeValue(text) {
  let value = 0n;
  let count = 0;
  for (const c of text.toUpperCase()) {
    if (c === "-" || c === " ") continue;
    const digit = c === "I" || c === "L" ? 1 : c === "O" ? 0 : crockford.indexOf(c);
    if (digit < 0) return null;
    value = (value << 5n) | BigInt(digit);
    count++;
  }
  return count === 12 ? value : null;
}

// RFC 9162, section 2.1.3.2: folds the audit path from the leaf's hash up to a root.
async function rootFrom(leafHash, leafIndex, treeSize, path) {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) {
    throw new CheckFailed("the audit path", `leaf ${leafIndex} is not in a tree of ${treeSize}`);
  }
  let index = leafIndex;
  let last = treeSize - 1;
  let hash = leafHash;
  for (const sibling of path) {
    if (last === 0) throw new CheckFailed("the audit path", "it is longer than the tree is high");
    if (index % 2 === 1 || index === last) {
      hash = await sha256(concat([1], sibling, hash));
      while (index % 2 === 0 && index !== 0) {
        index = Math.floor(index / 2);
        last = Math.floor(last / 2);
      }
    } else {
      hash = await sha256(concat([1], hash, sibling));
    }
    index = Math.floor(index / 2);
    last = Math.floor(last / 2);
  }
  if (last !== 0) throw new CheckFailed("the audit path", "it is shorter than the tree is high");
  return hash;
}

function passed(text) {
  const item = document.createElement("li");
  item.className = "passed";
  item.textContent = text;
  checks.append(item);
}

async function fetchOk(url, what) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new CheckFailed("the published files", `${what} could not be fetched (${response.status})`);
  return response;
}

// Every check of the proof; throws CheckFailed naming the first that fails. Answers the signed manifest.
async function verify(voteId, code, answer) {
  const proof = answer.proof;
  const [manifestBytes, pem] = await Promise.all([
    fetchOk(proof.manifestUrl, "manifest.json").then(r => r.arrayBuffer()).then(b => new Uint8Array(b)),
    fetchOk(proof.publicKeyUrl, "public-key.pem").then(r => r.text()),
  ]);

  // The signed bytes: the manifest before its last ',"signature":', then '}'.
  const at = lastIndexOf(manifestBytes, utf8.encode(',"signature":'));
  if (at < 0) throw new CheckFailed("the manifest's signature", "manifest.json has no signature");
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  let key;
  try {
    const der = fromBase64(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, ""));
    key = await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch (e) {
    throw new CheckFailed("the manifest's signature", `public-key.pem is not a P-256 public key (${e.message})`);
  }
  const signed = concat(manifestBytes.subarray(0, at), [0x7d]);
  const signature = fromBase64(manifest.signature?.value ?? "");
  if (!(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, signed))) {
    throw new CheckFailed("the manifest's signature", "the signature of manifest.json does not verify with public-key.pem");
  }
  passed("The manifest's signature verifies with the published public key.");

  if (proof.merkleRoot !== manifest.merkleRoot) {
    throw new CheckFailed("the root", `the proof's root ${proof.merkleRoot} is not the signed manifest's ${manifest.merkleRoot}`);
  }
  if (proof.treeSize !== manifest.ballots) {
    throw new CheckFailed("the root", `the proof is for a tree of ${proof.treeSize} ballots, the manifest seals ${manifest.ballots}`);
  }
  passed(`The proof's root is the signed manifest's: ${manifest.merkleRoot}.`);

  const ballot = proof.ballot;
  if (proof.leaf !== `${ballot.pseudonym},${ballot.voteId},${ballot.option}`) {
    throw new CheckFailed("the leaf", "the leaf is not the ballot's pseudonym, vote id and option");
  }
  if (!manifest.options.includes(ballot.option)) {
    throw new CheckFailed("the leaf", `the ballot's option '${ballot.option}' is none of the manifest's`);
  }
  if (!/^[0-9a-f]{32}$/.test(ballot.pseudonym) || BigInt("0x" + ballot.pseudonym.slice(0, 15)) !== codeValue(code)) {
    throw new CheckFailed("the receipt's code", "the ballot's pseudonym does not begin with the receipt's code: it is not this voter's ballot");
  }
  if (answer.status === "included" && ballot.voteId !== voteId) {
    throw new CheckFailed("the vote id", `the ballot's vote id ${ballot.voteId} is not the receipt's ${voteId}`);
  }
  if (answer.status === "superseded" && !(ballot.voteId > voteId)) {
    throw new CheckFailed("the vote id", `the ballot's vote ${ballot.voteId} is not later than the receipt's ${voteId}`);
  }
  passed("The leaf is this receipt's ballot: its pseudonym begins with the code, and it names the vote.");

  const leafHash = await sha256(concat([0], utf8.encode(proof.leaf)));
  const path = (proof.auditPath ?? []).map(h => fromHex(h, "the audit path"));
  const root = await rootFrom(leafHash, proof.leafIndex, proof.treeSize, path);
  if (hex(root) !== manifest.merkleRoot) {
    throw new CheckFailed("the audit path", `the path leads to ${hex(root)}, not to the signed root`);
  }
  passed(`The audit path leads from the ballot (leaf ${proof.leafIndex} of ${proof.treeSize}) to the signed root.`);
  return manifest;
}

// The time a UUIDv7 vote id carries (its first 48 bits: milliseconds since 1970).
function voteTime(voteId) {
  const milliseconds = parseInt(voteId.replaceAll("-", "").slice(0, 12), 16);
  return new Date(milliseconds).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

async function labelOf(option) {
  try {
    const response = await fetch("/api/results/final", { cache: "no-store" });
    const final = await response.json();
    return final.options.find(o => o.key === option)?.label ?? option;
  } catch {
    return option;
  }
}

function show(result, text) {
  outcome.className = result;
  outcome.textContent = text;
  outcome.dataset.result = result;
}

async function check(voteId, code) {
  let response;
  let answer;
  try {
    response = await fetch(`/api/receipts/${encodeURIComponent(voteId)}?code=${encodeURIComponent(code)}`, { cache: "no-store" });
    answer = await response.json();
  } catch (e) {
    show("refused", `The receipt cannot be looked up right now: ${e.message}`);
    return;
  }
  if (response.status === 400) {
    show("refused", answer.error);
    return;
  }
  if (answer.status === "not-counted") {
    show("not-counted", answer.reason);
    return;
  }
  if (answer.status !== "included" && answer.status !== "superseded") {
    show("refused", answer.reason ?? `The lookup answered ${response.status}.`);
    return;
  }
  try {
    await verify(voteId, code, answer);
  } catch (e) {
    const item = document.createElement("li");
    item.className = "failed";
    item.textContent = `${e.check ?? "the proof"}: ${e.message}`;
    checks.append(item);
    show("failed", `The proof does not check out: ${e.check ?? "the proof"} failed (${e.message}). Do not trust this answer; please report this receipt.`);
    return;
  }
  const label = await labelOf(answer.proof.ballot.option);
  if (answer.status === "included") {
    show("verified", `Your ballot is in the sealed count: it counted for ${label}.`);
  } else {
    show("superseded", `This vote was superseded by your later vote (cast ${voteTime(answer.proof.ballot.voteId)}), ` +
      `and that later ballot is in the sealed count: it counted for ${label}.`);
  }
}

form.addEventListener("submit", event => {
  event.preventDefault();
  checks.replaceChildren();
  show("", "Checking…");
  delete outcome.dataset.result;
  const voteId = document.getElementById("vote-id").value.trim().toLowerCase();
  const code = document.getElementById("code").value.trim();
  check(voteId, code);
});
