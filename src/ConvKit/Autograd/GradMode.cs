namespace ConvKit.Autograd;

/// <summary>Whether ops record the graph. Per thread, so inference on one thread never disturbs training on another.</summary>
public static class GradMode
{
    [ThreadStatic] static bool disabled;

    public static bool IsEnabled => !disabled;

    /// <summary>Turns recording off until the returned scope is disposed.</summary>
    public static Scope Disable()
    {
        var scope = new Scope(disabled);
        disabled = true;
        return scope;
    }

    /// <summary>Turns recording on until the returned scope is disposed, even inside a <see cref="Disable"/> scope.</summary>
    public static Scope Enable()
    {
        var scope = new Scope(disabled);
        disabled = false;
        return scope;
    }

    public readonly struct Scope : IDisposable
    {
        readonly bool wasDisabled;
        internal Scope(bool wasDisabled) => this.wasDisabled = wasDisabled;
        public void Dispose() => disabled = wasDisabled;
    }
}
