namespace ConvKit.Data;

/// <summary>
/// A labelled image-classification dataset, as torch.utils.data.Dataset with torchvision's ToTensor applied:
/// sample i is an image of shape <see cref="SampleShape"/> (C, H, W) with values in [0, 1] and a class index
/// in [0, <see cref="Classes"/>.Count). Images are written into a caller's buffer so a loader can batch them
/// without a tensor per sample.
/// </summary>
public abstract class Dataset
{
    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>(C, H, W) of every image.</summary>
    public abstract IReadOnlyList<int> SampleShape { get; }

    /// <summary>Class names; a label is an index into this list.</summary>
    public abstract IReadOnlyList<string> Classes { get; }

    /// <summary>The class index of sample <paramref name="index"/>.</summary>
    public abstract int Label(int index);

    /// <summary>Writes sample <paramref name="index"/>'s C·H·W values (row-major, in [0, 1]) into <paramref name="destination"/>.</summary>
    public abstract void ReadImage(int index, Span<float> destination);

    /// <summary>C·H·W, the number of values of one image.</summary>
    public int SampleLength => SampleShape.Aggregate(1, (product, size) => product * size);

    /// <summary>Sample <paramref name="index"/> as an image tensor (C, H, W) and its label.</summary>
    public (Tensor Image, int Label) this[int index]
    {
        get
        {
            CheckIndex(index);
            var values = new float[SampleLength];
            ReadImage(index, values);
            return (Tensor.FromArray(values, SampleShape.ToArray()), Label(index));
        }
    }

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
    public override IReadOnlyList<int> SampleShape => source.SampleShape;
    public override IReadOnlyList<string> Classes => source.Classes;
    public override int Label(int index) => source.Label(indices[index]);
    public override void ReadImage(int index, Span<float> destination) => source.ReadImage(indices[index], destination);
}

/// <summary>Another dataset's images centred in a larger field of zeros.</summary>
sealed class Padded(Dataset source, int height, int width) : Dataset
{
    readonly int[] shape = [source.SampleShape[0], height, width];

    public override int Count => source.Count;
    public override IReadOnlyList<int> SampleShape => shape;
    public override IReadOnlyList<string> Classes => source.Classes;
    public override int Label(int index) => source.Label(index);

    public override void ReadImage(int index, Span<float> destination)
    {
        int channels = shape[0], innerHeight = source.SampleShape[1], innerWidth = source.SampleShape[2];
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
