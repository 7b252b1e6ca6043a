// Runtime: reading a step's parameter slots (i32 words, some holding f32 bits). No allocation.
@inline export function pi(p: usize, slot: i32): i32 {
  return load<i32>(p + (<usize>slot << 2));
}
@inline export function pu(p: usize, slot: i32): usize {
  return <usize>load<u32>(p + (<usize>slot << 2));
}
@inline export function pf(p: usize, slot: i32): f32 {
  return load<f32>(p + (<usize>slot << 2));
}
