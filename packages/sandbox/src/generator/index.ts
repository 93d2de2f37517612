export type { GeneratedAuthor } from './authors.ts';
export { demoBrand, type GeneratorBrand } from './brands.ts';
export type { GeneratedTrait } from './compose.ts';
export {
  BRAND_KINDS,
  createPostGenerator,
  DEFAULT_MIX,
  GENERATED_KINDS,
  type GeneratedKind,
  type GeneratedPost,
  type OutageBurstOptions,
  type PostGenerator,
  type PostGeneratorOptions,
} from './generator.ts';
export { createRandom, type Random } from './random.ts';
export { type RunGeneratorOptions, runGenerator } from './run.ts';
export { foldText, namesIn } from './text.ts';
export { DAILY_ACTIVITY, generateTraffic, mergeByTime, type TrafficOptions } from './traffic.ts';
