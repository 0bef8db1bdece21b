using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit;

/// <summary>
/// A dense, row-major float32 tensor (NCHW by convention for images) with reverse-mode autograd, or an int32 tensor of
/// indices or class targets (<see cref="DType"/>). Tensors are always contiguous; <see cref="Reshape"/> shares storage,
/// every other op makes new storage.
/// </summary>
public sealed partial class Tensor
{
    // Float32 values; for an Int32 tensor, null until a float op first reads it, then the indices as float32 (made on
    // their backend: float ops read indices as values, as a number promotes). Not readonly: Module.To moves a parameter
    // to another backend in place, keeping the tensor every layer and optimiser holds (see MoveTo).
    Storage? values;
    // An Int32 tensor's own storage, exact beyond 2²⁴; null for a float32 tensor. Never written in place.
    Storage? indices;
    internal readonly int[] Dims;
    bool requiresGrad;
    // The value of a float used where a tensor was expected (PyTorch's "wrapped number"), null for every other tensor.
    // Made on the default backend, it joins an operand of another backend as a fresh scalar there (WithBackendOf), so
    // `g * 2f` inside a backward rule stays on g's backend without reading anything back.
    float? wrappedNumber;

    internal Tensor(Storage storage, int[] dims)
    {
        if (storage.DType == DType.Int32) indices = storage;
        else values = storage;
        Dims = dims;
        Numel = Shapes.Numel(dims);
        if (storage.Length != Numel)
            throw new ArgumentException($"Tensor: storage holds {storage.Length} values but shape {Shapes.Format(dims)} needs {Numel}.");
    }

    /// <summary>Sizes of the axes, outermost first.</summary>
    public IReadOnlyList<int> Shape => Dims;
    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank => Dims.Length;
    /// <summary>Number of elements.</summary>
    public int Numel { get; }
    /// <summary>The backend that holds the storage and runs the kernels.</summary>
    public IBackend Backend => OwnStorage.Backend;

    /// <summary>Float32 (values) or Int32 (indices and class targets, exact beyond 2²⁴; float ops read them as float32).</summary>
    public DType DType => indices == null ? DType.Float32 : DType.Int32;

    /// <summary>The float32 values every float op reads: this tensor's storage, or an Int32 tensor's indices converted on its backend.</summary>
    internal Storage Storage => values ?? FloatView();

    /// <summary>The storage this tensor owns: its float32 values or its int32 indices (views such as Reshape share it).</summary>
    internal Storage OwnStorage => indices ?? values!;

    Storage FloatView()
    {
        var view = indices!.Backend.AllocateUninitialized(indices.Length);
        indices.Backend.IndicesToFloat(indices, view);
        return values = view;
    }

    /// <summary>Throws unless this is a float32 tensor: int32 indices are never written in place nor differentiated.</summary>
    void CheckFloat(string op)
    {
        if (indices != null)
            throw new InvalidOperationException($"{op}: this tensor of shape {ShapeString} holds int32 indices, which are never written in place nor given gradients; convert with ToFloat() first.");
    }

    /// <summary>An Int32 tensor's values as a float32 tensor on its backend (exact below 2²⁴); a float32 tensor itself.</summary>
    public Tensor ToFloat() => indices == null ? this : new Tensor(Storage, Dims);

    /// <summary>
    /// This tensor, or, if it is a float written where a tensor was expected and <paramref name="operand"/> lives on
    /// another backend, the same number on <paramref name="operand"/>'s backend.
    /// </summary>
    internal Tensor WithBackendOf(Tensor operand) =>
        wrappedNumber is float value && operand.Backend != Backend && values!.Version == 0 ? WrappedNumber(value, operand.Backend) : this;

    internal static Tensor WrappedNumber(float value, IBackend backend) => new(backend.FromArray([value]), []) { wrappedNumber = value };

    /// <summary>Size of axis <paramref name="dim"/>; negative counts from the end.</summary>
    public int Size(int dim) => Dims[Shapes.NormalizeDim(dim, Rank, "Size")];

    internal string ShapeString => Shapes.Format(Dims);
    internal bool HasShape(int[] dims) => Dims.AsSpan().SequenceEqual(dims);

    // ----- autograd -------------------------------------------------------------------------------------

    /// <summary>Whether gradients flow to this tensor. Settable on leaves (tensors not made by an op).</summary>
    public bool RequiresGrad
    {
        get => requiresGrad;
        set
        {
            if (GradFn != null && !value)
                throw new InvalidOperationException($"RequiresGrad can only be cleared on a leaf tensor; this one was made by {GradFn.Op}. Use Detach().");
            if (value) CheckFloat("RequiresGrad");
            requiresGrad = value;
        }
    }

    /// <summary>Accumulated gradient of the last <see cref="Backward"/> calls, for leaves that require it.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The op that made this tensor, or null for a leaf.</summary>
    public Node? GradFn { get; private set; }
    /// <summary>True when no recorded op made this tensor (an input or a parameter).</summary>
    public bool IsLeaf => GradFn == null;

    internal void AttachNode(Node node)
    {
        GradFn = node;
        requiresGrad = true;
    }

    /// <summary>Adds to <see cref="Grad"/>; <paramref name="exclusive"/> says nothing else holds grad's storage, so it can be kept without a copy.</summary>
    internal void AccumulateGrad(Tensor grad, bool exclusive)
    {
        if (Grad != null) Grad += grad;
        else Grad = exclusive ? new Tensor(grad.Storage, Dims) : grad.Clone();
    }

    /// <summary>Sets this tensor's gradient back to none.</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>Requires gradients for this leaf (fluent form of <see cref="RequiresGrad"/>).</summary>
    public Tensor RequireGrad(bool requires = true)
    {
        RequiresGrad = requires;
        return this;
    }

    /// <summary>A tensor sharing this one's values but cut from the graph.</summary>
    public Tensor Detach() => new(OwnStorage, Dims);

    /// <summary>
    /// Back-propagates from this tensor. Without <paramref name="gradient"/> the tensor must hold one element
    /// (a loss); otherwise <paramref name="gradient"/> is dLoss/dThis and must have this tensor's shape.
    /// Gradients add up in the leaves' <see cref="Grad"/> across calls. The walk frees the graph behind this tensor
    /// (each op's backward rule and the tensors it kept), so a second Backward through it is refused unless the
    /// first was given <paramref name="retainGraph"/>. An op whose operands were overwritten in place since it ran
    /// (an optimiser step, <see cref="AddInPlace"/> through a <see cref="Detach"/> or state-dict alias) is refused
    /// before any gradient changes, since its gradient would be wrong.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward: this tensor does not require gradients (no input of the ops that made it had RequiresGrad set).");
        if (gradient == null)
        {
            if (Numel != 1)
                throw new InvalidOperationException(
                    $"Backward: a gradient can be implied only for a scalar (one-element) output, but this tensor has shape {ShapeString}; pass Backward(gradient) with that shape.");
            gradient = OnesLike(this);
        }
        else if (!gradient.HasShape(Dims))
            throw new ArgumentException($"Backward: gradient shape {gradient.ShapeString} does not match tensor shape {ShapeString}.");
        Engine.Backward(this, gradient, retainGraph);
    }

    /// <summary>A scope in which no op records the graph: <c>using (Tensor.NoGrad()) { ... }</c>.</summary>
    public static GradMode.Scope NoGrad() => GradMode.Disable();

    // ----- values ---------------------------------------------------------------------------------------

    /// <summary>The values, row-major.</summary>
    public float[] ToArray()
    {
        var values = new float[Numel];
        Backend.CopyTo(Storage, values);
        return values;
    }

    /// <summary>The values as int32, row-major: an Int32 tensor's exactly, a float32 tensor's truncated toward zero.</summary>
    public int[] ToInt32Array()
    {
        var result = new int[Numel];
        if (indices != null) Backend.CopyIndicesTo(indices, result);
        else
        {
            var floats = ToArray();
            for (int i = 0; i < result.Length; i++) result[i] = (int)floats[i];
        }
        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item() => Numel == 1 ? Backend.GetItem(Storage, 0)
        : throw new InvalidOperationException($"Item: tensor of shape {ShapeString} has {Numel} elements, not one.");

    /// <summary>The element at <paramref name="index"/> (one index per axis; negative counts from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get => Backend.GetItem(Storage, FlatIndex(index));
        set
        {
            CheckFloat("Tensor indexer");
            Backend.SetItem(Storage, FlatIndex(index), value);
            Storage.BumpVersion();
        }
    }

    int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Tensor indexer: {index.Length} indices given for a tensor of shape {ShapeString}.");
        int flat = 0;
        for (int d = 0; d < Rank; d++)
        {
            int i = index[d] < 0 ? index[d] + Dims[d] : index[d];
            if ((uint)i >= (uint)Dims[d])
                throw new IndexOutOfRangeException($"Tensor indexer: index {index[d]} is out of range for axis {d} of shape {ShapeString}.");
            flat = flat * Dims[d] + i;
        }
        return flat;
    }

    /// <summary>A new tensor with a copy of the values, in the graph (its gradient flows back to this one).</summary>
    public Tensor Clone()
    {
        var copy = Uninitialized(Dims, Backend);
        Backend.Copy(Storage, copy.Storage);
        return Node.Record(copy, "Clone", this, g => g);
    }

    /// <summary>
    /// this += alpha·other in place (other broadcasts to this shape), outside the graph: for optimiser steps and
    /// other updates. It counts as a write to this tensor's <see cref="Version"/>.
    /// </summary>
    public Tensor AddInPlace(Tensor other, float alpha = 1f)
    {
        if (!Shapes.BroadcastsTo(other.Dims, Dims))
            throw new ArgumentException($"AddInPlace: shape {other.ShapeString} cannot be broadcast to {ShapeString}.");
        CheckFloat("AddInPlace");
        using var _ = GradMode.Disable();
        other = other.WithBackendOf(this);
        Ops.F.SameBackend(this, other, "AddInPlace");
        var addend = alpha == 1f ? other : other * alpha;
        Backend.Binary(BinaryOp.Add, Storage, Dims, addend.Storage, addend.Dims, Storage, Dims);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>
    /// A copy of this tensor on <paramref name="backend"/>, or this tensor itself when it already lives there (as
    /// PyTorch's <c>.to</c>). The copy is in the graph: its gradient flows back to this tensor, on this tensor's backend.
    /// </summary>
    public Tensor To(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (backend == Backend) return this;
        var source = this;
        var copy = new Tensor(Transfer(OwnStorage, backend), Dims);
        return Node.Record(copy, "To", this, g => g.To(source.Backend), ("backend", backend.Name));
    }

    /// <summary>
    /// Moves this tensor's values, and its gradient's, to <paramref name="backend"/> in place: the same tensor object
    /// now lives there, so the layers and optimisers that hold it follow (<see cref="NN.Module.To"/>). A leaf only.
    /// </summary>
    internal void MoveTo(IBackend backend)
    {
        if (!IsLeaf)
            throw new InvalidOperationException($"To: only a leaf tensor can be moved in place; this one was made by {GradFn!.Op}.");
        if (backend == Backend) return;
        if (indices != null) (indices, values) = (Transfer(indices, backend), null);
        else values = Transfer(values!, backend);
        Grad?.MoveTo(backend);
    }

    /// <summary>A copy of <paramref name="storage"/> on <paramref name="backend"/>, through main memory (the one path every pair of backends shares).</summary>
    static Storage Transfer(Storage storage, IBackend backend)
    {
        if (storage.DType == DType.Int32)
        {
            var ints = GC.AllocateUninitializedArray<int>(storage.Length);
            storage.Backend.CopyIndicesTo(storage, ints);
            return backend.FromIndices(ints);
        }
        var values = GC.AllocateUninitializedArray<float>(storage.Length);
        storage.Backend.CopyTo(storage, values);
        return backend.FromArray(values);
    }

    /// <summary>
    /// Overwrites this tensor's values with <paramref name="source"/>'s (same shape, any backend), outside the graph; a
    /// write to its <see cref="Version"/>.
    /// </summary>
    public Tensor CopyFrom(Tensor source)
    {
        if (!source.HasShape(Dims))
            throw new ArgumentException($"CopyFrom: source shape {source.ShapeString} does not match {ShapeString}.");
        CheckFloat("CopyFrom");
        // From another backend the values cross over first, as torch's copy_ between devices (loading a state dict read on the CPU).
        Backend.Copy(source.Backend == Backend ? source.Storage : Transfer(source.Storage, Backend), Storage);
        Storage.BumpVersion();
        return this;
    }

    /// <summary>
    /// How many in-place writes this tensor's storage has had (shared with its <see cref="Detach"/>, <see cref="Reshape"/>
    /// and state-dict aliases). <see cref="Backward"/> refuses an op whose operands' versions moved since it ran; a
    /// kernel may cache data derived from the values for as long as the version stays the same.
    /// </summary>
    public int Version => OwnStorage.Version;

    /// <summary>PyTorch-style text: <c>tensor([[1.0000, 2.0000], ...])</c>, abbreviated beyond 1000 elements.</summary>
    public override string ToString() => TensorFormatter.Format(this);
}
