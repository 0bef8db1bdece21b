using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Register-tiled micro-kernels: C[MR×NR] += Apanel·Bpanel over kc steps. A panels hold MR values per step
/// (one per row), B panels NR values per step (one per column), both zero-padded to full tiles, so the
/// inner loop never branches. Each step is MR broadcasts of A times NR/lanes vector loads of B, all into
/// accumulators that stay in registers (16 of the 32 zmm, leaving room for the B vectors and broadcasts).
/// </summary>
static unsafe class GemmKernels
{
    /// <summary>Rows and columns of the tile the current hardware's kernel computes.</summary>
    public static readonly int MR = 8;
    public static readonly int NR = Vector512.IsHardwareAccelerated ? 32 : Vector256.IsHardwareAccelerated ? 16 : 8;

    public static string Isa => Vector512.IsHardwareAccelerated ? "Vector512 (AVX-512 FMA)"
        : Vector256.IsHardwareAccelerated ? "Vector256 (AVX2 FMA)" : "scalar";

    /// <summary>C tile += A panel · B panel. rows/cols below MR/NR mark an edge tile: only that part of C is written.</summary>
    public static void Tile(int kc, float* a, float* b, float* c, int ldc, int rows, int cols)
    {
        if (rows == MR && cols == NR)
        {
            Full(kc, a, b, c, ldc);
            return;
        }
        // Edge tile: compute the whole padded tile into a scratch block, then add the valid corner.
        float* scratch = stackalloc float[8 * 32];
        new Span<float>(scratch, MR * NR).Clear();
        Full(kc, a, b, scratch, NR);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                c[i * ldc + j] += scratch[i * NR + j];
    }

    static void Full(int kc, float* a, float* b, float* c, int ldc)
    {
        if (Vector512.IsHardwareAccelerated) Kernel512(kc, a, b, c, ldc);
        else if (Vector256.IsHardwareAccelerated) Kernel256(kc, a, b, c, ldc);
        else KernelScalar(kc, a, b, c, ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel512(int kc, float* a, float* b, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++, a += 8, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ai = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(ai, b0, c70); c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
        }
        Accumulate512(c, c00, c01); c += ldc;
        Accumulate512(c, c10, c11); c += ldc;
        Accumulate512(c, c20, c21); c += ldc;
        Accumulate512(c, c30, c31); c += ldc;
        Accumulate512(c, c40, c41); c += ldc;
        Accumulate512(c, c50, c51); c += ldc;
        Accumulate512(c, c60, c61); c += ldc;
        Accumulate512(c, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Accumulate512(float* c, Vector512<float> left, Vector512<float> right)
    {
        (Vector512.Load(c) + left).Store(c);
        (Vector512.Load(c + 16) + right).Store(c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel256(int kc, float* a, float* b, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++, a += 8, b += 16)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(ai, b0, c00); c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(ai, b0, c10); c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(ai, b0, c20); c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(ai, b0, c30); c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(ai, b0, c40); c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(ai, b0, c50); c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector256.Create(a[6]); c60 = Vector256.FusedMultiplyAdd(ai, b0, c60); c61 = Vector256.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector256.Create(a[7]); c70 = Vector256.FusedMultiplyAdd(ai, b0, c70); c71 = Vector256.FusedMultiplyAdd(ai, b1, c71);
        }
        Accumulate256(c, c00, c01); c += ldc;
        Accumulate256(c, c10, c11); c += ldc;
        Accumulate256(c, c20, c21); c += ldc;
        Accumulate256(c, c30, c31); c += ldc;
        Accumulate256(c, c40, c41); c += ldc;
        Accumulate256(c, c50, c51); c += ldc;
        Accumulate256(c, c60, c61); c += ldc;
        Accumulate256(c, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Accumulate256(float* c, Vector256<float> left, Vector256<float> right)
    {
        (Vector256.Load(c) + left).Store(c);
        (Vector256.Load(c + 8) + right).Store(c + 8);
    }

    /// <summary>Portable fallback with the same panel layout (MR = NR = 8).</summary>
    static void KernelScalar(int kc, float* a, float* b, float* c, int ldc)
    {
        float* tile = stackalloc float[8 * 8];
        new Span<float>(tile, 64).Clear();
        for (int p = 0; p < kc; p++, a += 8, b += 8)
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++)
                    tile[i * 8 + j] += a[i] * b[j];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                c[i * ldc + j] += tile[i * 8 + j];
    }
}
