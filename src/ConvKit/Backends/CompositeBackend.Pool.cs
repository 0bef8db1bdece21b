namespace ConvKit.Backends;

// Adaptive average pooling as two passes of window means, rows then columns: a window's mean is the mean of its rows'
// means. Each output row (or column) is a block copy of its window, a sum along the window and a division.
public abstract partial class CompositeBackend
{
    /// <inheritdoc/>
    public virtual void AdaptiveAvgPool2d(Storage x, Pool2dGeometry geometry, Storage y)
    {
        var g = geometry;
        var rows = AllocateUninitialized(g.Planes * g.OutputHeight * g.InputWidth);
        AdaptiveMean(x, g.Planes, g.InputHeight, g.OutputHeight, g.InputWidth, rows);
        AdaptiveMean(rows, g.Planes * g.OutputHeight, g.InputWidth, g.OutputWidth, 1, y);
    }

    /// <inheritdoc/>
    public virtual void AdaptiveAvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, Storage gradX)
    {
        var g = geometry;
        var rows = Allocate(g.Planes * g.OutputHeight * g.InputWidth);
        AdaptiveMeanBackward(gradY, g.Planes * g.OutputHeight, g.InputWidth, g.OutputWidth, 1, rows);
        AdaptiveMeanBackward(rows, g.Planes, g.InputHeight, g.OutputHeight, g.InputWidth, gradX);
    }

    /// <summary>Input positions ⌊i·in/out⌋ … ⌈(i+1)·in/out⌉ − 1, the window of output position i.</summary>
    static (int Start, int Length) AdaptiveWindow(int i, int inputSize, int outputSize)
    {
        int start = (int)((long)i * inputSize / outputSize), end = (int)(((long)(i + 1) * inputSize + outputSize - 1) / outputSize);
        return (start, end - start);
    }

    /// <summary>y (outer, outputSize, inner)[i] = the mean of x (outer, inputSize, inner) over output position i's window.</summary>
    void AdaptiveMean(Storage x, int outer, int inputSize, int outputSize, int inner, Storage y)
    {
        for (int i = 0; i < outputSize; i++)
        {
            var (start, length) = AdaptiveWindow(i, inputSize, outputSize);
            var window = AllocateUninitialized(outer * length * inner);
            CopyBlocks(x, window, new BlockCopy(outer, 1, length * inner, start * inner, inputSize * inner, 0, 0, length * inner, 0));
            var sum = AllocateUninitialized(outer * inner);
            Reduce(ReduceOp.Sum, window, outer, length, inner, sum);
            Apply(BinaryOp.Div, sum, Number(length), sum, outer * inner);
            CopyBlocks(sum, y, new BlockCopy(outer, 1, inner, 0, inner, 0, i * inner, outputSize * inner, 0));
        }
    }

    /// <summary>gradX (outer, inputSize, inner) += each output position's gradient shared evenly over its window.</summary>
    void AdaptiveMeanBackward(Storage gradY, int outer, int inputSize, int outputSize, int inner, Storage gradX)
    {
        for (int i = 0; i < outputSize; i++)
        {
            var (start, length) = AdaptiveWindow(i, inputSize, outputSize);
            var share = AllocateUninitialized(outer * inner);
            CopyBlocks(gradY, share, new BlockCopy(outer, 1, inner, i * inner, outputSize * inner, 0, 0, inner, 0));
            Apply(BinaryOp.Div, share, Number(length), share, outer * inner);
            // Windows overlap when the sizes do not divide: read the window's gradient, add the share, write it back.
            var window = AllocateUninitialized(outer * length * inner);
            var toWindow = new BlockCopy(outer, 1, length * inner, start * inner, inputSize * inner, 0, 0, length * inner, 0);
            CopyBlocks(gradX, window, toWindow);
            Binary(BinaryOp.Add, window, [outer, length, inner], share, [outer, 1, inner], window, [outer, length, inner]);
            CopyBlocks(window, gradX, new BlockCopy(outer, 1, length * inner, 0, length * inner, 0, start * inner, inputSize * inner, 0));
        }
    }
}
