namespace ConvKit.NN;

/// <summary>
/// Thrown by <see cref="Module.OutputShape(int[])"/> when a module (or one it calls) does not state its output shape
/// without computing; such a module is run instead (<see cref="ModelSummary.Of(Module, int[])"/> falls back to a forward
/// pass on zeros), or it overrides <c>OutputShapeCore</c>.
/// </summary>
public sealed class ShapeInferenceNotSupportedException : NotSupportedException
{
    /// <summary>The module that cannot state its output shape.</summary>
    public string ModuleType { get; }

    /// <summary>An exception naming <paramref name="module"/>'s type.</summary>
    public ShapeInferenceNotSupportedException(Module module)
        : base($"{module.GetType().Name} cannot state its output shape without running (it does not override OutputShapeCore); run it on an input instead.") =>
        ModuleType = module.GetType().Name;
}
