namespace ConvKit.Autograd;

/// <summary>
/// Whether ops record the graph. It flows with the execution context, like a local variable of the code that opened
/// the scope: an awaited continuation or a task started inside <c>using (Tensor.NoGrad())</c> records nothing, whatever
/// thread it runs on, and inference in one flow never disturbs training in another.
/// </summary>
public static class GradMode
{
    // An AsyncLocal rather than [ThreadStatic]: a thread-static scope stayed behind on the thread that opened it when
    // the code awaited, and never reached the continuation. A read costs a few nanoseconds, on every op.
    static readonly AsyncLocal<bool> disabled = new();

    /// <summary>Whether ops record the graph for <see cref="Tensor.Backward"/> on this execution context.</summary>
    public static bool IsEnabled => !disabled.Value;

    /// <summary>Turns recording off until the returned scope is disposed.</summary>
    public static Scope Disable() => Set(true);

    /// <summary>Turns recording on until the returned scope is disposed, even inside a <see cref="Disable"/> scope.</summary>
    public static Scope Enable() => Set(false);

    static Scope Set(bool value)
    {
        var scope = new Scope(disabled.Value);
        Change(value);
        return scope;
    }

    // Writing an AsyncLocal makes a new execution context; nested scopes with the same setting skip that.
    static void Change(bool value)
    {
        if (disabled.Value != value) disabled.Value = value;
    }

    /// <summary>Restores the previous setting when disposed (use it in a <c>using</c>).</summary>
    public readonly struct Scope : IDisposable
    {
        readonly bool wasDisabled;
        internal Scope(bool wasDisabled) => this.wasDisabled = wasDisabled;
        /// <summary>Restores the setting that held before the scope was opened.</summary>
        public void Dispose() => Change(wasDisabled);
    }
}
