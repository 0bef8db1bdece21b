using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// An element-wise function of eight lanes mapped over spans: the activations built on
/// <see cref="CpuBackend.Exp(Vector256{float})"/> (SiLU, Sigmoid, the error function, GELU) and their gradients.
/// </summary>
static class LaneMap
{
    /// <summary>A function of eight lanes of x and of g (the upstream gradient, for a backward rule; forward rules ignore it).</summary>
    public interface IFunction
    {
        static abstract Vector256<float> Apply(Vector256<float> x, Vector256<float> g);
    }

    /// <summary>
    /// y = F(x, g), eight lanes at a time; y may be x or g. The last eight are computed first and stored last, so no
    /// value is read after it was overwritten; fewer than eight go through a padded copy on the stack.
    /// </summary>
    public static void Run<TFunction>(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> y) where TFunction : IFunction
    {
        const int W = 8;
        int n = x.Length;
        if (n < W)
        {
            Span<float> lanes = stackalloc float[2 * W];
            lanes.Clear();
            x.CopyTo(lanes);
            g.CopyTo(lanes[W..]);
            TFunction.Apply(Vector256.Create<float>(lanes), Vector256.Create<float>(lanes[W..])).CopyTo(lanes);
            lanes[..n].CopyTo(y);
            return;
        }
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float upstream = ref MemoryMarshal.GetReference(g);
        ref float target = ref MemoryMarshal.GetReference(y);
        var last = TFunction.Apply(Vector256.LoadUnsafe(ref source, (nuint)(n - W)), Vector256.LoadUnsafe(ref upstream, (nuint)(n - W)));
        for (int i = 0; i + W <= n; i += W)
            TFunction.Apply(Vector256.LoadUnsafe(ref source, (nuint)i), Vector256.LoadUnsafe(ref upstream, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
        last.StoreUnsafe(ref target, (nuint)(n - W));
    }
}
