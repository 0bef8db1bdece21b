namespace ConvKit.Data;

/// <summary>
/// One picture and what the task knows about it — a class label (classification), boxes with their labels
/// (detection), a per-pixel class mask (segmentation) or an identity (faces) — as torchvision's samples of
/// <c>tv_tensors</c>. Transforms that move pixels (<see cref="Transforms.ISampleTransform"/>) move the boxes and the
/// mask with them.
/// </summary>
/// <param name="Image">(C, H, W), values in [0, 1] before normalisation</param>
public sealed record Sample(Tensor Image)
{
    /// <summary>The picture's class index, when the task has one.</summary>
    public int? Label { get; init; }
    /// <summary>Objects in the picture; their canvas is the image's (H, W).</summary>
    public BoundingBoxes? Boxes { get; init; }
    /// <summary>
    /// (H, W): each pixel's class index, held as whole floats (pixel transforms move it with the picture) or as Int32;
    /// the <see cref="DataLoader"/> stacks masks into Int32 <see cref="Batch.Masks"/>.
    /// </summary>
    public Tensor? Mask { get; init; }
    /// <summary>Which person (or object instance) the picture shows, for verification and recognition.</summary>
    public int? Identity { get; init; }

    /// <summary>
    /// The mask value of pixels that belong to no class: the padding that crops and letterboxes add, and Pascal VOC's
    /// object boundaries. Pass it to the loss (<c>F.CrossEntropy(logits, mask, ignoreIndex: Sample.IgnoreIndex)</c>), as
    /// torchvision's segmentation reference does with 255.
    /// </summary>
    public const int IgnoreIndex = 255;

    /// <summary>A classification sample as (image, label): <c>var (image, label) = dataset[i];</c></summary>
    public void Deconstruct(out Tensor image, out int label)
    {
        image = Image;
        label = Label ?? throw new InvalidOperationException("Sample: it has no class label.");
    }

    /// <summary>The picture's height in pixels.</summary>
    public int Height => Image.Shape[1];
    /// <summary>The picture's width in pixels.</summary>
    public int Width => Image.Shape[2];

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="source"/> when the parts do not fit the image.</summary>
    public Sample Validate(string source)
    {
        if (Image.Rank != 3) throw new ArgumentException($"{source}: the image must be (C, H, W), not {Shapes.Format(Image.Shape)}.");
        if (Boxes is { } boxes && (boxes.CanvasHeight != Height || boxes.CanvasWidth != Width))
            throw new ArgumentException($"{source}: the boxes belong to a {boxes.CanvasHeight}×{boxes.CanvasWidth} canvas but the image is {Height}×{Width}.");
        if (Mask is { } mask && (mask.Rank != 2 || mask.Shape[0] != Height || mask.Shape[1] != Width))
            throw new ArgumentException($"{source}: the mask has shape {Shapes.Format(mask.Shape)} but the image is {Height}×{Width}.");
        return this;
    }
}
