/** A fault a stand-in serves instead of (or before) a normal answer. */
export type Fault =
  | { readonly kind: 'rate-limit'; readonly resetInSeconds: number }
  | {
      readonly kind: 'status';
      readonly status: number;
      /** JSON unless a string with its own `content-type` (an HTML error page from a proxy, say). */
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'drop' };

export interface FaultRule {
  readonly fault: Fault;
  /** Only requests whose path starts with this (default: every request). */
  readonly path?: string;
  readonly method?: string;
  /** How many matching requests get the fault (default 1). */
  readonly times?: number;
}

/** Faults on demand, for tests and the demo world: queued rules, each used up by matching requests. */
export interface FaultInjector {
  inject(rule: FaultRule): void;
  /** The fault for this request, if a rule matches (and counts it down). */
  take(method: string, path: string): Fault | undefined;
  clear(): void;
  readonly pending: number;
}

export function createFaultInjector(): FaultInjector {
  const rules: Array<{ rule: FaultRule; left: number }> = [];
  return {
    inject(rule) {
      rules.push({ rule, left: rule.times ?? 1 });
    },
    take(method, path) {
      const index = rules.findIndex(
        ({ rule }) =>
          (rule.path === undefined || path.startsWith(rule.path)) &&
          (rule.method === undefined || rule.method.toUpperCase() === method.toUpperCase()),
      );
      if (index === -1) return undefined;
      const entry = rules[index] as { rule: FaultRule; left: number };
      entry.left--;
      if (entry.left <= 0) rules.splice(index, 1);
      return entry.rule.fault;
    },
    clear() {
      rules.length = 0;
    },
    get pending() {
      return rules.length;
    },
  };
}
