namespace ConvKit.Data;

/// <summary>
/// Images held in memory as bytes (0–255, the way MNIST stores them) with their labels; each image is read
/// as its bytes divided by 255, as torchvision's ToTensor does.
/// </summary>
public sealed class ByteImageDataset : Dataset
{
    readonly byte[] pixels;
    readonly int[] labels;
    readonly int[] sampleShape;
    readonly string[] classes;

    /// <param name="pixels">Count·C·H·W bytes, image after image</param>
    /// <param name="sampleShape">(C, H, W)</param>
    /// <param name="labels">one class index per image</param>
    public ByteImageDataset(byte[] pixels, int[] sampleShape, int[] labels, IReadOnlyList<string> classes)
    {
        if (sampleShape.Length != 3 || sampleShape.Any(size => size < 1))
            throw new ArgumentException($"ByteImageDataset: the sample shape must be (C, H, W) with positive sizes, not {Shapes.Format(sampleShape)}.");
        long length = (long)labels.Length * sampleShape[0] * sampleShape[1] * sampleShape[2];
        if (pixels.LongLength != length)
            throw new ArgumentException($"ByteImageDataset: {labels.Length} images of shape {Shapes.Format(sampleShape)} need {length} bytes, but {pixels.Length} were given.");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes.Count)
                throw new ArgumentException($"ByteImageDataset: label {labels[i]} of sample {i} is not one of the {classes.Count} classes.");
        this.pixels = pixels;
        this.labels = labels;
        this.sampleShape = (int[])sampleShape.Clone();
        this.classes = classes.ToArray();
    }

    /// <inheritdoc/>
    public override int Count => labels.Length;
    /// <inheritdoc/>
    public override IReadOnlyList<int> SampleShape => sampleShape;
    /// <inheritdoc/>
    public override IReadOnlyList<string> Classes => classes;

    /// <inheritdoc/>
    public override int Label(int index)
    {
        CheckIndex(index);
        return labels[index];
    }

    /// <inheritdoc/>
    public override void ReadImage(int index, Span<float> destination)
    {
        CheckIndex(index);
        int length = SampleLength;
        var source = pixels.AsSpan(index * length, length);
        for (int i = 0; i < length; i++) destination[i] = source[i] / 255f;
    }
}
