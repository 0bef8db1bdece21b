namespace ConvKit.NN;

/// <summary>Runs its modules in order, each on the previous one's output; they are named "0", "1", ...</summary>
public class Sequential : Module
{
    readonly List<Module> layers = [];

    /// <summary>A pipeline of <paramref name="modules"/>, run in the order given.</summary>
    public Sequential(params Module[] modules)
    {
        foreach (var module in modules) Add(module);
    }

    /// <summary>Appends a module (named by its position).</summary>
    public Sequential Add(Module module)
    {
        RegisterModule(layers.Count.ToString(), module);
        layers.Add(module);
        return this;
    }

    /// <summary>Number of modules.</summary>
    public int Count => layers.Count;
    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module this[int index] => layers[index];

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var x = input;
        foreach (var layer in layers) x = layer.Forward(x);
        return x;
    }

    /// <summary>Each module's output shape fed to the next.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        var shape = inputShape;
        foreach (var layer in layers) shape = layer.OutputShape(shape);
        return shape;
    }
}
