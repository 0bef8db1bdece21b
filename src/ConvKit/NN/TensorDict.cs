using System.Collections;

namespace ConvKit.NN;

/// <summary>
/// Named tensors in a fixed order — a module's several outputs (GoogLeNet's <c>logits</c>, <c>aux1</c>, <c>aux2</c>)
/// or a feature extractor's activations, as PyTorch's OrderedDict of outputs. The first entry is the
/// <see cref="Main"/> output: what <see cref="Module.Forward(Tensor)"/> returns for a module with several.
/// </summary>
public sealed class TensorDict : IReadOnlyDictionary<string, Tensor>
{
    /// <summary>The name a single-output module gives its output.</summary>
    public const string OutputName = "output";

    readonly OrderedDictionary<string, Tensor> entries = new();

    /// <summary>An empty dictionary.</summary>
    public TensorDict() { }

    /// <summary>A dictionary holding <paramref name="entries"/> in their order; a repeated name is refused.</summary>
    public TensorDict(IEnumerable<KeyValuePair<string, Tensor>> entries)
    {
        foreach (var (name, tensor) in entries) Add(name, tensor);
    }

    /// <summary>A dictionary holding one tensor under <see cref="OutputName"/>.</summary>
    public static TensorDict Single(Tensor output) => new() { { OutputName, output } };

    /// <summary>Adds <paramref name="tensor"/> under a new <paramref name="name"/> (collection initialisers use this).</summary>
    public void Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!entries.TryAdd(name, tensor)) throw new ArgumentException($"TensorDict: '{name}' is already present.");
    }

    /// <summary>The first entry: a model's main output.</summary>
    public Tensor Main => entries.Count > 0 ? entries.GetAt(0).Value : throw new InvalidOperationException("TensorDict: it is empty, there is no main output.");

    /// <summary>The tensor named <paramref name="name"/>; an unknown name throws, listing the names held.</summary>
    public Tensor this[string name] => entries.TryGetValue(name, out var tensor) ? tensor
        : throw new KeyNotFoundException($"TensorDict: no entry '{name}'; it holds [{string.Join(", ", entries.Keys)}].");

    /// <summary>The entry at <paramref name="index"/> in insertion order.</summary>
    public Tensor this[int index] => entries.GetAt(index).Value;

    /// <inheritdoc/>
    public int Count => entries.Count;
    /// <inheritdoc/>
    public IEnumerable<string> Keys => entries.Keys;
    /// <inheritdoc/>
    public IEnumerable<Tensor> Values => entries.Values;
    /// <inheritdoc/>
    public bool ContainsKey(string key) => entries.ContainsKey(key);
    /// <inheritdoc/>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => entries.TryGetValue(key, out value);
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => "{" + string.Join(", ", entries.Select(e => $"{e.Key}: {Shapes.Format(e.Value.Shape)}")) + "}";
}
