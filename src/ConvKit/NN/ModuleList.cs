using System.Collections;

namespace ConvKit.NN;

/// <summary>
/// Holds sub-modules named "0", "1", ... so their parameters are registered, without prescribing how they
/// are called; the owner decides in its own Forward.
/// </summary>
public class ModuleList : Module, IReadOnlyList<Module>
{
    readonly List<Module> modules = [];

    /// <summary>A list holding <paramref name="items"/>, named "0", "1", ... in order.</summary>
    public ModuleList(params Module[] items)
    {
        foreach (var module in items) Add(module);
    }

    /// <summary>Appends a module (named by its position) and returns this list.</summary>
    public ModuleList Add(Module module)
    {
        RegisterModule(modules.Count.ToString(), module);
        modules.Add(module);
        return this;
    }

    /// <inheritdoc/>
    public int Count => modules.Count;
    /// <inheritdoc/>
    public Module this[int index] => modules[index];
    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => modules.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) =>
        throw new InvalidOperationException("ModuleList has no Forward of its own: call its modules from the owning module.");
}
