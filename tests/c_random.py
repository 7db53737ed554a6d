"""The random numbers the C test harnesses draw (splitmix64), as C source to paste into them."""


def splitmix64(seed: int) -> str:
    """`static uint32_t next(void)`: the upper 32 bits of splitmix64 from `seed`, in C."""
    return f"""static uint64_t state = 0x{seed:016X}u;
static uint32_t next(void) /* splitmix64 */
{{
    uint64_t z = (state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}}"""
