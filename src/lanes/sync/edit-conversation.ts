import { BunchError } from '../../errors/bunch-error.js';
import type { GenerateContentRequest, RequestContent, RequestPart } from '../../gemini/generate-content-request.js';
import type { AnswerPart, GenerateUsage, ParsedGenerateResponse } from '../../gemini/parse-generate-response.js';
import { decodeImage } from '../../image/decode-image.js';
import { itemFileKey } from '../../outputs/item-files.js';
import { fillExtension, keptStepKey } from '../../plan/item-identity.js';
import type { ItemTarget } from '../../plan/planned-item.js';
import type { ImageRef, StepRecord } from '../../runs/item-record.js';
import type { ObjectStore } from '../../storage/object-store.js';

/**
 * A multi-turn edit: the first prompt, then each step as one more user turn. Every call sends the
 * whole conversation — earlier answers echoed back as model turns with their thoughtSignatures, as
 * the API requires — and the last answer is the item's output. Each answered turn but the last is
 * written to the item's folder in storage (never Redis) before the next call, so a delivery that
 * fails at step 3 is retried from step 3, not from the start: the turns already paid for are read
 * back, not bought again. The turn files are deleted once the output is stored.
 */
export interface TurnFile {
  schemaVersion: 1;
  /** 1 is the first prompt's answer, 2 the first step's, ... */
  turn: number;
  /** The model turn to send back: the answer's parts with their signatures (image bytes included). */
  parts: AnswerPart[];
  usage: GenerateUsage;
  costUsd: number;
  runId: string;
  createdAt: string;
  /** Kept copy of this turn's image (output.keepSteps). */
  image?: ImageRef;
}

export interface ConversationInput {
  store: ObjectStore;
  target: ItemTarget;
  runId: string;
  /** The first turn's request, references inlined, system instruction included. */
  request: GenerateContentRequest;
  steps: readonly string[];
  keepSteps: boolean;
  /** One model call, with the lane's timeout; throws a classified BunchError. */
  call(request: GenerateContentRequest): Promise<{ response: ParsedGenerateResponse; latencyMs: number }>;
  /** What an answered call cost (called for every answer, usable or not). */
  charge(response: ParsedGenerateResponse): number;
  /** An unusable answer (refusal, no image) as an error, or undefined. */
  refusalOf(response: ParsedGenerateResponse): BunchError | undefined;
  /** Writes with the lane's storage retries: turns were paid for. */
  persist<T>(write: () => Promise<T>): Promise<T>;
}

export interface ConversationResult {
  response: ParsedGenerateResponse;
  /** Latency of the calls this delivery made. */
  latencyMs: number;
  /** Every turn, the last included; earlier deliveries' turns marked `resumed`. */
  steps: StepRecord[];
}

export function turnKey(target: ItemTarget, turn: number): string {
  return itemFileKey(target.markerKey, `turns/${turn}.json`);
}

export async function runEditConversation(input: ConversationInput): Promise<ConversationResult> {
  const { store, target, request, steps } = input;
  const [first] = request.contents;
  if (!first) throw new BunchError('E_INTERNAL', 'a request without contents');
  const history: RequestContent[] = [first];
  const records: StepRecord[] = [];
  let latencyMs = 0;
  const turns = steps.length + 1;
  for (let turn = 1; turn <= turns; turn += 1) {
    if (turn > 1) history.push({ role: 'user', parts: [{ text: steps[turn - 2] as string }] });
    const isLast = turn === turns;
    const saved = isLast ? undefined : await readTurn(store, target, turn);
    if (saved) {
      history.push({ role: 'model', parts: saved.parts as RequestPart[] });
      records.push({ turn, usage: saved.usage, costUsd: saved.costUsd, resumed: true, ...(saved.image ? { image: saved.image } : {}) });
      continue;
    }
    const answer = await input.call({ ...request, contents: [...history] });
    latencyMs += answer.latencyMs;
    const costUsd = input.charge(answer.response);
    const refusal = input.refusalOf(answer.response);
    if (refusal) throw refusal;
    const record: StepRecord = { turn, usage: answer.response.usage, costUsd, latencyMs: answer.latencyMs };
    if (isLast) {
      records.push(record);
      return { response: answer.response, latencyMs, steps: records };
    }
    const file = await saveTurn(input, turn, answer.response, costUsd);
    if (file.image) record.image = file.image;
    history.push({ role: 'model', parts: answer.response.turn as RequestPart[] });
    records.push(record);
  }
  throw new BunchError('E_INTERNAL', 'a conversation without a last turn');
}

/** Writes an answered turn (and, with keepSteps, its image beside the output) before the next turn is asked. */
export async function saveTurn(
  input: Pick<ConversationInput, 'store' | 'target' | 'runId' | 'keepSteps' | 'persist'>,
  turn: number,
  response: ParsedGenerateResponse,
  costUsd: number,
): Promise<TurnFile> {
  const { store, target } = input;
  const file: TurnFile = { schemaVersion: 1, turn, parts: response.turn, usage: response.usage, costUsd, runId: input.runId, createdAt: new Date().toISOString() };
  if (input.keepSteps) {
    const image = await input.persist(() => keepTurnImage(store, target, turn, response));
    if (image) file.image = image;
  }
  await input.persist(() => store.put(turnKey(target, turn), JSON.stringify(file), { contentType: 'application/json' }));
  return file;
}

/** The records of turns 1..before-1 as stored (a batch wave reads what the earlier waves answered). */
export async function storedTurnRecords(store: ObjectStore, target: ItemTarget, before: number): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  for (let turn = 1; turn < before; turn += 1) {
    const file = await readTurn(store, target, turn);
    if (!file) throw new BunchError('E_STORAGE', `turn ${turn} of ${target.itemKey} is missing from storage`, { retryable: false });
    records.push({ turn, usage: file.usage, costUsd: file.costUsd, ...(file.image ? { image: file.image } : {}) });
  }
  return records;
}

/** Removes the turn files once the output is stored; a leftover file is harmless (it is only read while resuming). */
export async function forgetTurns(store: ObjectStore, target: ItemTarget, steps: number): Promise<void> {
  for (let turn = 1; turn <= steps; turn += 1) await store.delete(turnKey(target, turn)).catch(() => undefined);
}

export async function readTurn(store: ObjectStore, target: ItemTarget, turn: number): Promise<TurnFile | undefined> {
  const body = await store.get(turnKey(target, turn));
  if (!body) return undefined;
  try {
    const file = JSON.parse(body.toString('utf8')) as Partial<TurnFile>;
    return file.schemaVersion === 1 && file.turn === turn && Array.isArray(file.parts) ? (file as TurnFile) : undefined;
  } catch {
    // A torn write is a turn not taken: it is asked again.
    return undefined;
  }
}

async function keepTurnImage(store: ObjectStore, target: ItemTarget, turn: number, response: ParsedGenerateResponse): Promise<ImageRef | undefined> {
  const part = response.images[0];
  if (!part) return undefined;
  const decoded = decodeImage(part, target.expected);
  const key = fillExtension(keptStepKey(target.objectKey, turn), decoded.ext);
  await store.put(key, decoded.bytes, { contentType: decoded.mimeType });
  return { key, uri: store.uriFor(key), sha256: decoded.sha256, bytes: decoded.byteLength, mimeType: decoded.mimeType, width: decoded.width, height: decoded.height };
}
