using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Matrix transpose in 8×8 blocks held in eight AVX registers (unpack, shuffle, swap halves: 24 shuffles per
/// 64 values), with a scalar loop for the ragged edges and for CPUs without AVX. The convolution's weight
/// gradient uses it to hand the GEMM its column matrix in the layout the GEMM copies fastest.
/// </summary>
static class BlockTranspose
{
    /// <summary>destination[c·destinationLd + r] = source[r·sourceLd + c] for r &lt; rows, c &lt; columns.</summary>
    public static void Run(ReadOnlySpan<float> source, int sourceLd, int rows, int columns, Span<float> destination, int destinationLd)
    {
        if (rows == 0 || columns == 0) return;
        if ((long)(rows - 1) * sourceLd + columns > source.Length || (long)(columns - 1) * destinationLd + rows > destination.Length)
            throw new ArgumentException("BlockTranspose: a matrix does not fit its buffer.");
        ref float src = ref MemoryMarshal.GetReference(source);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int fullRows = Avx.IsSupported ? rows / 8 * 8 : 0, fullColumns = Avx.IsSupported ? columns / 8 * 8 : 0;
        for (int r = 0; r < fullRows; r += 8)
            for (int c = 0; c < fullColumns; c += 8)
                Block8x8(ref Unsafe.Add(ref src, r * sourceLd + c), sourceLd, ref Unsafe.Add(ref dst, c * destinationLd + r), destinationLd);
        // Edges: the columns right of the blocks for every row, then the rows below them.
        for (int r = 0; r < rows; r++)
            for (int c = r < fullRows ? fullColumns : 0; c < columns; c++)
                Unsafe.Add(ref dst, c * destinationLd + r) = Unsafe.Add(ref src, r * sourceLd + c);
    }

    /// <summary>Transposes the 8×8 block at <paramref name="source"/> into <paramref name="destination"/> (AVX required; the GEMM's packing of a transposed B uses it too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block8x8(ref float source, int sourceLd, ref float destination, int destinationLd)
    {
        var r0 = Vector256.LoadUnsafe(ref source);
        var r1 = Vector256.LoadUnsafe(ref source, (nuint)sourceLd);
        var r2 = Vector256.LoadUnsafe(ref source, (nuint)(2 * sourceLd));
        var r3 = Vector256.LoadUnsafe(ref source, (nuint)(3 * sourceLd));
        var r4 = Vector256.LoadUnsafe(ref source, (nuint)(4 * sourceLd));
        var r5 = Vector256.LoadUnsafe(ref source, (nuint)(5 * sourceLd));
        var r6 = Vector256.LoadUnsafe(ref source, (nuint)(6 * sourceLd));
        var r7 = Vector256.LoadUnsafe(ref source, (nuint)(7 * sourceLd));
        // Interleave row pairs, then pairs of pairs: each 128-bit half now holds a 4×4 transposed quarter.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Join the low halves (columns 0–3) and the high halves (columns 4–7) of rows 0–3 and 4–7.
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref destination);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref destination, (nuint)destinationLd);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref destination, (nuint)(2 * destinationLd));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref destination, (nuint)(3 * destinationLd));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref destination, (nuint)(4 * destinationLd));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref destination, (nuint)(5 * destinationLd));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref destination, (nuint)(6 * destinationLd));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref destination, (nuint)(7 * destinationLd));
    }
}
