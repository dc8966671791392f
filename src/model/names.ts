/**
 * The pruned linear layers of a decoder layer, in wanda's `find_layers` order: the inner index of
 * every per-matrix result. A module of its own (no GPU code), so that the page can import it.
 */
export const LINEAR_NAMES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];
