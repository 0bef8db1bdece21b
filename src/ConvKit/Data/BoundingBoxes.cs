namespace ConvKit.Data;

/// <summary>How the four numbers of a box are laid out.</summary>
public enum BoxFormat
{
    /// <summary>(x1, y1, x2, y2): the top-left and bottom-right corners (Pascal VOC, torchvision).</summary>
    Xyxy,
    /// <summary>(x, y, width, height) from the top-left corner (COCO).</summary>
    Xywh,
    /// <summary>(centre x, centre y, width, height) (YOLO).</summary>
    Cxcywh,
}

/// <summary>
/// The boxes of one picture with their class labels, as torchvision's <c>tv_tensors.BoundingBoxes</c>: the
/// coordinates say their <see cref="Format"/>, whether they are in pixels or relative to the picture's size
/// (<see cref="Relative"/>, values in [0, 1]), and the size of the picture they belong to (<see cref="CanvasHeight"/>
/// × <see cref="CanvasWidth"/>), so a transform that moves the pixels can move the boxes with them.
/// Immutable: conversions and transforms return new instances.
/// </summary>
public sealed class BoundingBoxes
{
    readonly float[] coordinates;
    readonly int[] labels;

    /// <param name="coordinates">4 numbers per box, in <paramref name="format"/></param>
    /// <param name="labels">one class index per box</param>
    public BoundingBoxes(ReadOnlySpan<float> coordinates, ReadOnlySpan<int> labels, BoxFormat format, int canvasHeight, int canvasWidth, bool relative = false)
    {
        if (coordinates.Length != 4 * labels.Length)
            throw new ArgumentException($"BoundingBoxes: {coordinates.Length} coordinates for {labels.Length} labels; give 4 per box.");
        if (canvasHeight < 1 || canvasWidth < 1)
            throw new ArgumentException($"BoundingBoxes: the canvas must be at least 1×1, not {canvasHeight}×{canvasWidth}.");
        if (!Enum.IsDefined(format)) throw new ArgumentOutOfRangeException(nameof(format), format, "BoundingBoxes: unknown box format.");
        foreach (float value in coordinates)
            if (!float.IsFinite(value)) throw new ArgumentException($"BoundingBoxes: coordinate {value} is not a finite number.");
        this.coordinates = coordinates.ToArray();
        this.labels = labels.ToArray();
        Format = format;
        Relative = relative;
        CanvasHeight = canvasHeight;
        CanvasWidth = canvasWidth;
    }

    /// <summary>No boxes on a canvas of the given size.</summary>
    public static BoundingBoxes Empty(int canvasHeight, int canvasWidth, BoxFormat format = BoxFormat.Xyxy) => new([], [], format, canvasHeight, canvasWidth);

    /// <summary>How each box's four numbers are laid out.</summary>
    public BoxFormat Format { get; }
    /// <summary>Whether the coordinates are fractions of the canvas (in [0, 1]) rather than pixels.</summary>
    public bool Relative { get; }
    /// <summary>Height in pixels of the picture the boxes belong to.</summary>
    public int CanvasHeight { get; }
    /// <summary>Width in pixels of the picture the boxes belong to.</summary>
    public int CanvasWidth { get; }
    /// <summary>Number of boxes.</summary>
    public int Count => labels.Length;
    /// <summary>4·<see cref="Count"/> numbers, box after box.</summary>
    public ReadOnlySpan<float> Coordinates => coordinates;
    /// <summary>One class index per box.</summary>
    public ReadOnlySpan<int> Labels => labels;

    /// <summary>Box <paramref name="index"/>'s four numbers.</summary>
    public ReadOnlySpan<float> this[int index] => coordinates.AsSpan(4 * index, 4);

    /// <summary>The coordinates as a (Count, 4) tensor.</summary>
    public Tensor ToTensor() => Tensor.FromArray(coordinates.ToArray(), Count, 4);

    /// <summary>The same boxes in another format, and in pixels or relative (unchanged when null).</summary>
    public BoundingBoxes ConvertTo(BoxFormat format, bool? relative = null)
    {
        bool toRelative = relative ?? Relative;
        if (format == Format && toRelative == Relative) return this;
        var converted = new float[coordinates.Length];
        float scaleX = toRelative == Relative ? 1 : toRelative ? 1f / CanvasWidth : CanvasWidth;
        float scaleY = toRelative == Relative ? 1 : toRelative ? 1f / CanvasHeight : CanvasHeight;
        for (int i = 0; i < Count; i++)
        {
            var (x1, y1, x2, y2) = ToXyxy(this[i], Format);
            FromXyxy(x1 * scaleX, y1 * scaleY, x2 * scaleX, y2 * scaleY, format, converted.AsSpan(4 * i, 4));
        }
        return new BoundingBoxes(converted, labels, format, CanvasHeight, CanvasWidth, toRelative);
    }

    /// <summary>
    /// The boxes on a new canvas after the pixels moved by x' = x·scaleX + offsetX, y' = y·scaleY + offsetY (a resize,
    /// crop, pad or letterbox), clipped to the new canvas; boxes left with no area are dropped with their labels.
    /// The result is in pixels, xyxy.
    /// </summary>
    public BoundingBoxes Transform(float scaleX, float scaleY, float offsetX, float offsetY, int canvasHeight, int canvasWidth)
    {
        var pixels = ConvertTo(BoxFormat.Xyxy, relative: false);
        var kept = new List<float>(coordinates.Length);
        var keptLabels = new List<int>(Count);
        for (int i = 0; i < Count; i++)
        {
            var box = pixels[i];
            float x1 = box[0] * scaleX + offsetX, x2 = box[2] * scaleX + offsetX, y1 = box[1] * scaleY + offsetY, y2 = box[3] * scaleY + offsetY;
            if (x1 > x2) (x1, x2) = (x2, x1);
            if (y1 > y2) (y1, y2) = (y2, y1);
            x1 = Math.Clamp(x1, 0, canvasWidth); x2 = Math.Clamp(x2, 0, canvasWidth);
            y1 = Math.Clamp(y1, 0, canvasHeight); y2 = Math.Clamp(y2, 0, canvasHeight);
            if (x2 <= x1 || y2 <= y1) continue;
            kept.AddRange([x1, y1, x2, y2]);
            keptLabels.Add(labels[i]);
        }
        return new BoundingBoxes(kept.ToArray(), keptLabels.ToArray(), BoxFormat.Xyxy, canvasHeight, canvasWidth);
    }

    /// <summary>The boxes mirrored left to right on the same canvas (pixels, xyxy).</summary>
    public BoundingBoxes FlipHorizontal() => Transform(-1, 1, CanvasWidth, 0, CanvasHeight, CanvasWidth);

    /// <summary>
    /// Rewrites boxes from one format to another, box after box, without a canvas (pixels stay pixels, relative stays
    /// relative), like torchvision's <c>box_convert</c>.
    /// </summary>
    /// <param name="source">4 numbers per box, in <paramref name="from"/></param>
    /// <param name="destination">as long as <paramref name="source"/>; receives the boxes in <paramref name="to"/></param>
    public static void Convert(ReadOnlySpan<float> source, BoxFormat from, BoxFormat to, Span<float> destination)
    {
        if (source.Length % 4 != 0 || destination.Length != source.Length)
            throw new ArgumentException($"BoundingBoxes.Convert: {source.Length} source and {destination.Length} destination numbers; give 4 per box, as many in both.");
        if (!Enum.IsDefined(from)) throw new ArgumentOutOfRangeException(nameof(from), from, "BoundingBoxes.Convert: unknown box format.");
        if (!Enum.IsDefined(to)) throw new ArgumentOutOfRangeException(nameof(to), to, "BoundingBoxes.Convert: unknown box format.");
        for (int i = 0; i < source.Length; i += 4)
        {
            var (x1, y1, x2, y2) = ToXyxy(source.Slice(i, 4), from);
            FromXyxy(x1, y1, x2, y2, to, destination.Slice(i, 4));
        }
    }

    internal static (float X1, float Y1, float X2, float Y2) ToXyxy(ReadOnlySpan<float> box, BoxFormat format) => format switch
    {
        BoxFormat.Xyxy => (box[0], box[1], box[2], box[3]),
        BoxFormat.Xywh => (box[0], box[1], box[0] + box[2], box[1] + box[3]),
        _ => (box[0] - box[2] / 2, box[1] - box[3] / 2, box[0] + box[2] / 2, box[1] + box[3] / 2),
    };

    internal static void FromXyxy(float x1, float y1, float x2, float y2, BoxFormat format, Span<float> box)
    {
        switch (format)
        {
            case BoxFormat.Xyxy: box[0] = x1; box[1] = y1; box[2] = x2; box[3] = y2; break;
            case BoxFormat.Xywh: box[0] = x1; box[1] = y1; box[2] = x2 - x1; box[3] = y2 - y1; break;
            default: box[0] = (x1 + x2) / 2; box[1] = (y1 + y2) / 2; box[2] = x2 - x1; box[3] = y2 - y1; break;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"BoundingBoxes({Count} boxes, {Format}{(Relative ? ", relative" : "")}, canvas {CanvasHeight}×{CanvasWidth})";
}
