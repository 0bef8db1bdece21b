using ConvKit.NN;

namespace ConvKit.Onnx.Import;

/// <summary>
/// A node of the parameter tree an imported model registers its initialisers in: an ONNX name "layer1.0.conv1.weight"
/// becomes groups layer1 → 0 → conv1 holding parameter weight, so the state-dict key equals the ONNX name. It computes
/// nothing.
/// </summary>
sealed class ParameterGroup : Module
{
    readonly Dictionary<string, object> entries = [];

    internal bool IsFree(string name) => !entries.ContainsKey(name);

    internal bool HasGroup(string name) => entries.TryGetValue(name, out var entry) && entry is ParameterGroup;

    internal ParameterGroup Group(string name)
    {
        if (entries.TryGetValue(name, out var entry)) return (ParameterGroup)entry;
        var group = RegisterModule(name, new ParameterGroup());
        entries[name] = group;
        return group;
    }

    internal void Add(string name, Tensor tensor, bool trainable)
    {
        entries[name] = tensor;
        if (trainable) RegisterParameter(name, tensor);
        else RegisterBuffer(name, tensor);
    }

    protected override Tensor ForwardCore(Tensor input) =>
        throw new InvalidOperationException("an ONNX parameter group holds weights and cannot run; call the OnnxModule instead.");
}
