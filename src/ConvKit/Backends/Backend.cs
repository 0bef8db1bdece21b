using ConvKit.Backends.Cpu;

namespace ConvKit.Backends;

/// <summary>Chooses the backend new tensors are created on.</summary>
public static class Backend
{
    static IBackend current = CpuBackend.Instance;

    /// <summary>The backend that creation functions (Zeros, FromArray, ...) use; the CPU backend by default.</summary>
    public static IBackend Default
    {
        get => current;
        set => current = value ?? throw new ArgumentNullException(nameof(value));
    }
}
