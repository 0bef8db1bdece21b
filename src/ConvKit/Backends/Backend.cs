using ConvKit.Backends.Cpu;

namespace ConvKit.Backends;

/// <summary>Chooses the backend new tensors are created on.</summary>
public static class Backend
{
    static IBackend current = CpuBackend.Instance;
    // A scope flows with the execution context (as Tensor.NoGrad does), so code run on one backend in one flow never
    // moves the tensors of another flow, a test class running in parallel say.
    static readonly AsyncLocal<IBackend?> scoped = new();

    /// <summary>
    /// The backend that creation functions (Zeros, FromArray, Scalar, ...) use: the innermost <see cref="Use"/> scope's,
    /// else the process-wide one, the CPU backend unless set.
    /// </summary>
    public static IBackend Default
    {
        get => scoped.Value ?? current;
        set => current = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// Creates tensors on <paramref name="backend"/> in this execution context (awaited continuations included) until
    /// the returned scope is disposed: <c>using (Backend.Use(ReferenceBackend.Instance)) { ... }</c>.
    /// </summary>
    public static Scope Use(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var scope = new Scope(scoped.Value);
        scoped.Value = backend;
        return scope;
    }

    /// <summary>Restores the backend that held before <see cref="Use"/> when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        readonly IBackend? previous;
        internal Scope(IBackend? previous) => this.previous = previous;
        /// <summary>Restores the previous backend.</summary>
        public void Dispose() => scoped.Value = previous;
    }
}
