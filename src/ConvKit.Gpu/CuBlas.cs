using System.Runtime.InteropServices;

namespace ConvKit.Backends.Gpu;

/// <summary>
/// NVIDIA's cuBLAS, bound at run time: the first of libcublas.so.13, .12 and .11 (and the unversioned name) that loads,
/// so the same build works with whichever CUDA the machine has (ILGPU.Algorithms binds version 12 only). Row-major
/// products are column-major ones transposed: C = A·B is Cᵀ = Bᵀ·Aᵀ, so the operands are passed swapped.
/// </summary>
sealed unsafe class CuBlas : IDisposable
{
    static readonly string[] LibraryNames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"];

    readonly IntPtr library, handle;
    readonly delegate* unmanaged[Cdecl]<IntPtr, int> destroy;
    readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> setStream;
    readonly delegate* unmanaged[Cdecl]<IntPtr, int, int> setMathMode;
    readonly delegate* unmanaged[Cdecl]<IntPtr, int, int, int, int, int, float*, IntPtr, int, IntPtr, int, float*, IntPtr, int, int> sgemm;
    bool tf32;

    const int OpN = 0, OpT = 1, DefaultMath = 0, Tf32TensorOpMath = 3;

    CuBlas(IntPtr library, string name)
    {
        this.library = library;
        Name = name;
        var create = (delegate* unmanaged[Cdecl]<IntPtr*, int>)NativeLibrary.GetExport(library, "cublasCreate_v2");
        destroy = (delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(library, "cublasDestroy_v2");
        setStream = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "cublasSetStream_v2");
        setMathMode = (delegate* unmanaged[Cdecl]<IntPtr, int, int>)NativeLibrary.GetExport(library, "cublasSetMathMode");
        sgemm = (delegate* unmanaged[Cdecl]<IntPtr, int, int, int, int, int, float*, IntPtr, int, IntPtr, int, float*, IntPtr, int, int>)
            NativeLibrary.GetExport(library, "cublasSgemm_v2");
        IntPtr created;
        Check(create(&created), "cublasCreate");
        handle = created;
    }

    /// <summary>The library file that loaded (libcublas.so.13, say).</summary>
    public string Name { get; }

    /// <summary>cuBLAS from the first library that loads, or null when none does; call it with the CUDA context current.</summary>
    public static CuBlas? TryLoad()
    {
        foreach (string name in LibraryNames)
            if (NativeLibrary.TryLoad(name, out var library))
            {
                try
                {
                    return new CuBlas(library, name);
                }
                catch (Exception e) when (e is EntryPointNotFoundException or InvalidOperationException)
                {
                    NativeLibrary.Free(library);
                }
            }
        return null;
    }

    /// <summary>
    /// Row-major C = alpha·op(A)·op(B) + beta·C on device pointers, queued on <paramref name="stream"/>. With
    /// <paramref name="allowTf32"/> the tensor cores multiply in TF32 (10-bit mantissas), as PyTorch's allow_tf32.
    /// </summary>
    public void Sgemm(IntPtr stream, bool allowTf32, bool transA, bool transB, int m, int n, int k, float alpha,
        IntPtr a, int lda, IntPtr b, int ldb, float beta, IntPtr c, int ldc)
    {
        Check(setStream(handle, stream), "cublasSetStream");
        if (allowTf32 != tf32)
        {
            Check(setMathMode(handle, allowTf32 ? Tf32TensorOpMath : DefaultMath), "cublasSetMathMode");
            tf32 = allowTf32;
        }
        Check(sgemm(handle, transB ? OpT : OpN, transA ? OpT : OpN, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc), "cublasSgemm");
    }

    static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} failed with cuBLAS status {status}");
    }

    public void Dispose()
    {
        destroy(handle);
        NativeLibrary.Free(library);
    }
}
