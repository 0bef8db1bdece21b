using System.Collections;

namespace ConvKit.NN;

/// <summary>
/// Holds sub-modules named "0", "1", ... so their parameters are registered, without prescribing how they
/// are called; the owner decides in its own Forward.
/// </summary>
public class ModuleList : Module, IReadOnlyList<Module>
{
    readonly List<Module> modules = [];

    public ModuleList(params Module[] items)
    {
        foreach (var module in items) Add(module);
    }

    public ModuleList Add(Module module)
    {
        RegisterModule(modules.Count.ToString(), module);
        modules.Add(module);
        return this;
    }

    public int Count => modules.Count;
    public Module this[int index] => modules[index];
    public IEnumerator<Module> GetEnumerator() => modules.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) =>
        throw new InvalidOperationException("ModuleList has no Forward of its own: call its modules from the owning module.");
}
