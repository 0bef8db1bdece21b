namespace ConvKit.Backends.Cpu;

/// <summary>
/// Splits work along one axis of a tensor read as (outer, extent, inner) into independent blocks and runs them,
/// in parallel when there is enough work. Used by kernels that reduce over the middle axis (softmax, losses).
/// </summary>
static class AxisBlocks
{
    // Inner columns per block: the per-block temporaries (a few rows of this width) stay in L1, and the threads
    // have blocks to share even when outer is 1 (softmax over the first axis).
    public const int Width = 1024;
    const long MinParallelWork = 1 << 15;

    /// <summary>
    /// Calls body(o, column, width) for o &lt; outer and inner columns [column, column + width), covering every
    /// (outer, inner) position once; with inner = 1 each call is one whole row (column 0, width 1).
    /// </summary>
    public static void Run(int outer, int extent, int inner, Action<int, int, int> body)
    {
        if (outer == 0 || inner == 0) return;
        int blocks = (inner + Width - 1) / Width;
        int count = outer * blocks;
        void Block(int b)
        {
            int o = b / blocks, column = b % blocks * Width;
            body(o, column, Math.Min(Width, inner - column));
        }
        if (count > 1 && Threading.NumThreads > 1 && (long)outer * extent * inner >= MinParallelWork)
            Threading.For(count, Threading.NumThreads, Block);
        else
            for (int b = 0; b < count; b++) Block(b);
    }
}
