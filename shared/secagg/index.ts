/** SecAgg+ secure aggregation (Bonawitz et al. 2017, Bell et al. 2020): transport-free public API. */
export {
  assertNoOverflow,
  cryptoUniformSource,
  decodeSum,
  encodeWeightedUpdate,
  maxBitsFor,
  maxClientsFor,
  quantStep,
  seededUniformSource,
  type QuantConfig,
  type UniformSource,
} from './quantize';
export { expandMask, expandMaskAsync } from './prg';
export {
  agree,
  agreeMany,
  derivePairMaskSeed,
  derivePairSecrets,
  generateKeyPair,
  pairEncKey,
  pairMaskSeed,
  publicKeyOf,
  randomSeed,
  selfSeedCommitment,
  type KeyPair,
  type PairContext,
  type RoundContext,
} from './keys';
export { SHARE_BYTES, ShamirError, reconstructSecret, shareSecret } from './shamir';
export {
  decodeSharePlaintext,
  decryptShare,
  encodeSharePlaintext,
  encryptShare,
  encryptShares,
  type SharePlaintext,
} from './share-crypto';
export { defaultDegree, defaultThreshold, effectiveDegree, neighbourGraph } from './graph';
export {
  addMaskInPlace,
  maskInput,
  maskInputAsync,
  pairSign,
  unmaskSum,
  type PairSeed,
  type Sign,
  type UnmaskSeeds,
} from './mask';
export * from './messages';
export { SecAggClient, type SecAggClientOptions } from './client';
export { SecAggServer, type RoundResult, type SecAggServerOptions } from './server';
export {
  simulateRound,
  type DropPoint,
  type SimulateOptions,
  type SimulateOutcome,
  type SimulateTimings,
} from './simulate';
