namespace ConvKit.Data;

/// <summary>
/// A dataset of pictures, as torch.utils.data.Dataset with torchvision's ToTensor applied: sample i is a
/// <see cref="Sample"/> — an image (C, H, W) with values in [0, 1] and what the task knows about it.
/// <para>
/// Two ways to write one. A labelled classification set of same-sized pictures overrides <see cref="SampleShape"/>,
/// <see cref="Label"/> and <see cref="ReadImage"/>: images are written into a caller's buffer, so a loader batches
/// them without a tensor per sample (the fast path). Any other set (boxes, masks, pictures of different sizes)
/// overrides <see cref="GetSample"/> and <see cref="HasTargets"/>.
/// </para>
/// </summary>
public abstract class Dataset
{
    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>(C, H, W) of every image; null when the pictures differ in size.</summary>
    public virtual IReadOnlyList<int>? SampleShape => null;

    /// <summary>Class names; a label (or a box's or a mask pixel's class) is an index into this list.</summary>
    public abstract IReadOnlyList<string> Classes { get; }

    /// <summary>Whether samples carry more than a class label (boxes, masks, identities) or differ in size: the loader then collates whole <see cref="Sample"/>s.</summary>
    public virtual bool HasTargets => false;

    /// <summary>The class index of sample <paramref name="index"/>.</summary>
    public virtual int Label(int index) =>
        GetSample(index).Label ?? throw new InvalidOperationException($"{GetType().Name}: sample {index} has no class label.");

    /// <summary>Writes sample <paramref name="index"/>'s C·H·W values (row-major, in [0, 1]) into <paramref name="destination"/>.</summary>
    public virtual void ReadImage(int index, Span<float> destination) => GetSample(index).Image.ToArray().CopyTo(destination);

    /// <summary>Sample <paramref name="index"/>: by default its image (<see cref="ReadImage"/>) and class label (<see cref="Label"/>).</summary>
    public virtual Sample GetSample(int index)
    {
        CheckIndex(index);
        if (SampleShape is null) throw new NotImplementedException($"{GetType().Name}: override GetSample, or SampleShape, Label and ReadImage.");
        var values = new float[SampleLength];
        ReadImage(index, values);
        return new Sample(Tensor.FromArray(values, SampleShape.ToArray())) { Label = Label(index) };
    }

    /// <summary>C·H·W, the number of values of one image.</summary>
    public int SampleLength => SampleShape is { } shape ? shape.Aggregate(1, (product, size) => product * size)
        : throw new InvalidOperationException($"{GetType().Name}: its pictures differ in size; read them with GetSample.");

    /// <summary>Sample <paramref name="index"/> (<see cref="GetSample"/>).</summary>
    public Sample this[int index] => GetSample(index);

    /// <summary>The samples at <paramref name="indices"/> of this dataset, in that order (torch.utils.data.Subset).</summary>
    public Dataset Subset(IEnumerable<int> indices) => new Subset(this, indices.ToArray());

    /// <summary>The first <paramref name="count"/> samples (all of them when there are fewer).</summary>
    public Dataset Take(int count) => Subset(Enumerable.Range(0, Math.Min(count, Count)));

    /// <summary>
    /// The images centred in a larger <paramref name="height"/> × <paramref name="width"/> field of zeros (black), as
    /// LeNet-5's paper put MNIST's 28×28 digits in 32×32 (torchvision's Pad with fill 0).
    /// </summary>
    public Dataset PadTo(int height, int width)
    {
        if (SampleShape is null) throw new InvalidOperationException($"PadTo: the pictures of {GetType().Name} differ in size; use a Resize or Letterbox transform instead.");
        int extraHeight = height - SampleShape[1], extraWidth = width - SampleShape[2];
        if (extraHeight < 0 || extraWidth < 0)
            throw new ArgumentException($"PadTo: images of {SampleShape[1]}×{SampleShape[2]} cannot be padded to the smaller {height}×{width}.");
        return extraHeight == 0 && extraWidth == 0 ? this : new Padded(this, height, width);
    }

    /// <summary>
    /// A seeded random split into two disjoint parts, the second holding round(fraction·Count) samples
    /// (e.g. a validation set), as torch.utils.data.random_split.
    /// </summary>
    public (Dataset First, Dataset Second) RandomSplit(double secondFraction, long seed)
    {
        if (!(secondFraction >= 0 && secondFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(secondFraction), secondFraction, $"RandomSplit: the fraction must be in [0, 1), not {secondFraction}.");
        var order = Enumerable.Range(0, Count).ToArray();
        Generator.For(seed, 0x5_911_7).Shuffle(order);
        int second = (int)Math.Round(secondFraction * Count);
        return (Subset(order[second..].Order()), Subset(order[..second].Order()));
    }

    /// <summary>Throws, naming the dataset, its size and <paramref name="index"/>, unless 0 ≤ index &lt; Count.</summary>
    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{GetType().Name}: index {index} is out of range for {Count} samples.");
    }
}

/// <summary>A view of some samples of another dataset.</summary>
sealed class Subset : Dataset
{
    readonly Dataset source;
    readonly int[] indices;

    public Subset(Dataset source, int[] indices)
    {
        foreach (int index in indices)
            if ((uint)index >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Subset: index {index} is out of range for {source.Count} samples.");
        this.source = source;
        this.indices = indices;
    }

    public override int Count => indices.Length;
    public override IReadOnlyList<int>? SampleShape => source.SampleShape;
    public override IReadOnlyList<string> Classes => source.Classes;
    public override bool HasTargets => source.HasTargets;
    public override int Label(int index) => source.Label(indices[index]);
    public override void ReadImage(int index, Span<float> destination) => source.ReadImage(indices[index], destination);
    public override Sample GetSample(int index) => source.GetSample(indices[index]);
}

/// <summary>Another dataset's images centred in a larger field of zeros.</summary>
sealed class Padded(Dataset source, int height, int width) : Dataset
{
    readonly int[] shape = [source.SampleShape![0], height, width];

    public override int Count => source.Count;
    public override IReadOnlyList<int> SampleShape => shape;
    public override IReadOnlyList<string> Classes => source.Classes;
    public override int Label(int index) => source.Label(index);

    public override void ReadImage(int index, Span<float> destination)
    {
        int channels = shape[0], innerHeight = source.SampleShape![1], innerWidth = source.SampleShape[2];
        int top = (height - innerHeight) / 2, left = (width - innerWidth) / 2;
        float[] inner = System.Buffers.ArrayPool<float>.Shared.Rent(source.SampleLength);
        source.ReadImage(index, inner);
        destination[..SampleLength].Clear();
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < innerHeight; y++)
                inner.AsSpan((c * innerHeight + y) * innerWidth, innerWidth).CopyTo(destination[(((c * height) + top + y) * width + left)..]);
        System.Buffers.ArrayPool<float>.Shared.Return(inner);
    }
}
