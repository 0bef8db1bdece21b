namespace ConvKit.NN;

/// <summary>
/// Sees every <see cref="Module.OutputShape(int[])"/> call on this thread while it is open, as forward hooks see
/// <see cref="Module.Forward(Tensor)"/> calls: children are recorded before their parents, in the order they were asked.
/// <see cref="ModelSummary"/> builds its rows from it.
/// </summary>
sealed class ShapeTrace : IDisposable
{
    [ThreadStatic] static ShapeTrace? current;
    readonly ShapeTrace? outer;
    readonly Action<Module, IReadOnlyList<int[]>, IReadOnlyDictionary<string, int[]>> record;

    /// <summary>The open trace of this thread, or null.</summary>
    public static ShapeTrace? Current => current;

    public ShapeTrace(Action<Module, IReadOnlyList<int[]>, IReadOnlyDictionary<string, int[]>> record)
    {
        this.record = record;
        outer = current;
        current = this;
    }

    public void Record(Module module, IReadOnlyList<int[]> inputs, IReadOnlyDictionary<string, int[]> outputs) => record(module, inputs, outputs);

    public void Dispose() => current = outer;
}
