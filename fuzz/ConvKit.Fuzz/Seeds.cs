using System.Text;
using ConvKit.Data;
using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Onnx;
using ConvKit.Onnx.Proto;
using Google.Protobuf;
using ConvKit.Training;
using SkiaSharp;

namespace ConvKit.Fuzz;

/// <summary>
/// The small valid inputs each target starts from, written by ConvKit's own writers (or by hand where ConvKit writes
/// no such file), so that every seed is accepted by its reader: <c>ConvKit.Fuzz --seeds fuzz/seeds</c>.
/// </summary>
static class Seeds
{
    public static void Write(string root)
    {
        string Folder(string target)
        {
            string path = Path.Combine(root, target);
            Directory.CreateDirectory(path);
            return path;
        }

        // IDX: three 2×3 "images" and their labels, plain and gzip-compressed.
        var images = new IdxArray([3, 2, 3], Enumerable.Range(0, 18).Select(i => (byte)(i * 13)).ToArray());
        Idx.Write(Path.Combine(Folder("idx"), "images.idx"), images);
        Idx.Write(Path.Combine(Folder("idx"), "images.idx.gz"), images);
        Idx.Write(Path.Combine(Folder("idx"), "labels.idx"), new IdxArray([3], [7, 0, 9]));

        // safetensors: ConvKit's float32 file with metadata, and every dtype the loader converts.
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = Tensor.FromArray([0.5f, -1, 2, 0.25f, 3, -4], 1, 2, 3),
            ["conv.bias"] = Tensor.FromArray([1f], 1),
        };
        Safetensors.Save(Path.Combine(Folder("safetensors"), "f32.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllBytes(Path.Combine(Folder("safetensors"), "dtypes.safetensors"), RawSafetensors(
            ("f64", "F64", 8), ("f16", "F16", 2), ("bf16", "BF16", 2), ("i64", "I64", 8), ("i32", "I32", 4),
            ("i16", "I16", 2), ("i8", "I8", 1), ("u8", "U8", 1), ("flag", "BOOL", 1)));

        // A checkpoint of a tiny classifier with its model card and one epoch of history.
        var model = new Sequential(new Flatten(), new Linear(4, 2, random: new Random(1)));
        var card = new ModelCard
        {
            Model = "mlp",
            Arguments = new ModelArguments(1, 2),
            Classes = ["no", "yes"],
            Preprocessing = new ImagePreprocessing { InputShape = [1, 2, 2], Mean = [0.5f], Std = [0.25f] },
            Dataset = "folder:pictures",
        };
        new Checkpoint
        {
            ModelState = model.StateDict(),
            Options = new TrainingOptions { Epochs = 2, BatchSize = 4 },
            Epoch = 1,
            GeneratorState = 12345,
            History = [new EpochMetrics(1, new Dictionary<string, double> { ["loss"] = 0.7, ["accuracy"] = 0.5 }, null, 1e-3, 0.1, 40)],
            Best = (1, 0.5),
            Metadata = card.ToMetadata(),
        }.Save(Path.Combine(Folder("checkpoint"), "mlp.safetensors"));

        // ONNX: ConvKit's export of a small CNN (Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm).
        var cnn = new Sequential(new Conv2d(1, 2, 3, padding: 1), new BatchNorm2d(2), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(18, 3, random: new Random(2)));
        OnnxExporter.Export(cnn, [1, 1, 6, 6], Path.Combine(Folder("onnx"), "cnn.onnx"));

        File.WriteAllBytes(Path.Combine(Folder("onnx"), "ops.onnx"), EveryOperator());

        // Pictures: SkiaSharp's PNG, JPEG and WebP encoders; BMP and GIF by hand (SkiaSharp encodes neither).
        File.WriteAllBytes(Path.Combine(Folder("image"), "a.png"), Workspace.Encode(4, 3, SKEncodedImageFormat.Png));
        File.WriteAllBytes(Path.Combine(Folder("image"), "a.jpg"), Workspace.Encode(8, 8, SKEncodedImageFormat.Jpeg));
        File.WriteAllBytes(Path.Combine(Folder("image"), "a.webp"), Workspace.Encode(4, 3, SKEncodedImageFormat.Webp));
        File.WriteAllBytes(Path.Combine(Folder("image"), "a.bmp"), Bmp24(3, 2));
        File.WriteAllBytes(Path.Combine(Folder("image"), "a.gif"), Gif1x1);

        File.WriteAllText(Path.Combine(Folder("coco"), "instances.json"), """
            {"images": [{"id": 1, "file_name": "a.png", "width": 16, "height": 12}, {"id": 2, "file_name": "a.png", "width": 16, "height": 12}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 5.5, 4], "iscrowd": 0},
                             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 16, 12], "iscrowd": 1}],
             "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}]}
            """);
        File.WriteAllText(Path.Combine(Folder("voc"), "a.xml"), """
            <annotation>
              <filename>a.png</filename>
              <size><width>16</width><height>12</height><depth>3</depth></size>
              <object><name>cat</name><difficult>0</difficult><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>9</xmax><ymax>11</ymax></bndbox></object>
              <object><name>dog</name><difficult>1</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>16</xmax><ymax>12</ymax></bndbox></object>
            </annotation>
            """);
        File.WriteAllText(Path.Combine(Folder("yolo"), "a.txt"), "0 0.5 0.5 0.25 0.5\n2 0.3125 0.4 0.125 0.2\n");
    }

    /// <summary>A safetensors file by hand: one two-element tensor per (name, dtype, element size).</summary>
    static byte[] RawSafetensors(params (string Name, string DType, int Size)[] entries)
    {
        var header = new StringBuilder("{");
        var data = new List<byte>();
        foreach (var (name, dtype, size) in entries)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[2],\"data_offsets\":[{data.Count},{data.Count + 2 * size}]}}");
            for (int i = 0; i < 2 * size; i++) data.Add(dtype == "BOOL" ? (byte)i : (byte)(i * 37 + 1));
        }
        header.Append('}');
        var json = Encoding.UTF8.GetBytes(header.ToString());
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data];
    }

    /// <summary>An uncompressed 24-bit BMP of <paramref name="width"/> × <paramref name="height"/> (rows bottom-up, padded to 4 bytes).</summary>
    static byte[] Bmp24(int width, int height)
    {
        int rowBytes = (3 * width + 3) / 4 * 4, pixels = rowBytes * height;
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)'B'); writer.Write((byte)'M');
        writer.Write(54 + pixels); writer.Write(0); writer.Write(54);
        writer.Write(40); writer.Write(width); writer.Write(height); writer.Write((short)1); writer.Write((short)24);
        writer.Write(0); writer.Write(pixels); writer.Write(2835); writer.Write(2835); writer.Write(0); writer.Write(0);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) { writer.Write((byte)(40 * x)); writer.Write((byte)(90 * y)); writer.Write((byte)200); }
            for (int pad = 3 * width; pad < rowBytes; pad++) writer.Write((byte)0);
        }
        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>The smallest GIF: one black pixel, a two-colour palette, LZW minimum code size 2.</summary>
    static readonly byte[] Gif1x1 =
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, // screen 1×1, global palette of 2 colours
        0, 0, 0, 255, 255, 255,
        0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0,       // image descriptor
        2, 2, 0x44, 1, 0,                       // LZW data: clear, index 0, end
        0x3B,
    ];

    /// <summary>
    /// A graph with one node of each operator the importer compiles, with typical attributes and constant inputs. The
    /// shapes need not agree: loading checks names and attributes, not shapes, so every node is reached.
    /// </summary>
    static byte[] EveryOperator()
    {
        var graph = new GraphProto { Name = "ops" };
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        var ints = new TensorProto { Name = "ints", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { 1, -1 } };
        var floats = new TensorProto { Name = "floats", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 4 }, FloatData = { 1, 1, 2, 2 } };
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 2, 2, 1, 1 }, RawData = ByteString.CopyFrom(new byte[16]) };
        graph.Initializer.Add(ints);
        graph.Initializer.Add(floats);
        graph.Initializer.Add(weight);
        int count = 0;
        void Node(string op, string[] inputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = $"{op.ToLowerInvariant()}{count}", Output = { $"y{count}" } };
            node.Input.AddRange(inputs);
            node.Attribute.AddRange(attributes);
            graph.Node.Add(node);
            graph.Output.Add(new ValueInfoProto { Name = $"y{count++}" });
        }
        Node("Add", ["x", "x"]); Node("Sub", ["x", "x"]); Node("Mul", ["x", "x"]); Node("Div", ["x", "x"]); Node("Sum", ["x", "x", "x"]);
        Node("Relu", ["x"]); Node("LeakyRelu", ["x"], Float("alpha", 0.1f)); Node("Sigmoid", ["x"]); Node("Tanh", ["x"]);
        Node("Clip", ["x", "", ""]); Node("Softmax", ["x"], Int("axis", 1)); Node("Dropout", ["x"]); Node("Identity", ["x"]);
        Node("Conv", ["x", "w"], Ints("kernel_shape", 1, 1), Ints("pads", 0, 0, 0, 0), Ints("strides", 1, 1));
        Node("ConvTranspose", ["x", "w"], Ints("strides", 2, 2), Ints("output_padding", 1, 1));
        Node("Gemm", ["x", "x"], Int("transB", 1)); Node("MatMul", ["x", "x"]);
        Node("MaxPool", ["x"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1));
        Node("AveragePool", ["x"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1));
        Node("GlobalAveragePool", ["x"]); Node("GlobalMaxPool", ["x"]);
        Node("BatchNormalization", ["x", "floats", "floats", "floats", "floats"], Float("epsilon", 1e-5f));
        Node("LRN", ["x"], Int("size", 3), Float("alpha", 1e-4f), Float("beta", 0.75f));
        Node("Concat", ["x", "x"], Int("axis", 1)); Node("Flatten", ["x"], Int("axis", 1));
        Node("Reshape", ["x", "ints"]); Node("Transpose", ["x"], Ints("perm", 0, 2, 3, 1));
        Node("Pad", ["x", "ints"], Text("mode", "reflect")); Node("Shape", ["x"]);
        Node("Gather", ["x", "ints"], Int("axis", 0)); Node("Unsqueeze", ["x", "ints"]); Node("Squeeze", ["x", "ints"]);
        Node("Slice", ["x", "ints", "ints", "ints", "ints"]); Node("Split", ["x", "ints"], Int("axis", 1));
        Node("Constant", [], Ints("value_ints", 3, 4)); Node("ConstantOfShape", ["ints"]);
        Node("Cast", ["x"], Int("to", 7)); Node("Resize", ["x", "", "floats"], Text("mode", "nearest"));
        Node("Upsample", ["x", "floats"], Text("mode", "linear"));
        var model = new ModelProto { IrVersion = 8, ProducerName = "ConvKit.Fuzz", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
    static AttributeProto Text(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
    static AttributeProto Ints(string name, params long[] values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };
}
