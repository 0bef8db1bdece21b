using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// Every supported op, across the opset versions that changed it: a small model runs in ONNX Runtime and in
/// ConvKit, and the outputs agree within 1e-4 of the output scale.
/// </summary>
public class OpTests
{
    static readonly int[] Image = [2, 4, 7, 8];

    static GraphBuilder Unary(string op, long opset, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", Image).Node(op, ["x"], ["y"], attributes).Output("y");

    static GraphBuilder Conv(long opset, int[] weight, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", Image).Weight("w", weight).Weight("b", [weight[0]])
            .Node("Conv", ["x", "w", "b"], ["y"], attributes).Output("y");

    static GraphBuilder ConvTranspose(long opset, int[] weight, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", [1, 4, 5, 6]).Weight("w", weight).Weight("b", [weight[1] * 2])
            .Node("ConvTranspose", ["x", "w", "b"], ["y"], [("group", 2), .. attributes]).Output("y");

    static GraphBuilder Resize(long opset, float[] scales, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", [1, 2, 5, 6]).Floats("roi", [], 0).Floats("scales", scales, 4)
            .Node("Resize", opset < 11 ? ["x", "scales"] : ["x", "roi", "scales"], ["y"], attributes).Output("y");

    static GraphBuilder ResizeTo(long opset, long[] sizes, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", [1, 2, 5, 6]).Floats("roi", [], 0).Floats("scales", [], 0).Ints("sizes", sizes, 4)
            .Node("Resize", ["x", "roi", "scales", "sizes"], ["y"], attributes).Output("y");

    static readonly Dictionary<string, Func<GraphBuilder>> Cases = new()
    {
        ["Add broadcast (7)"] = () => new GraphBuilder(7).Input("a", Image).Input("b", [4, 1, 8]).Node("Add", ["a", "b"], ["y"]).Output("y"),
        ["Sub (13)"] = () => new GraphBuilder(13).Input("a", Image).Input("b", [8]).Node("Sub", ["a", "b"], ["y"]).Output("y"),
        ["Mul (14)"] = () => new GraphBuilder(14).Input("a", Image).Input("b", [2, 1, 1, 1]).Node("Mul", ["a", "b"], ["y"]).Output("y"),
        ["Div (7)"] = () => new GraphBuilder(7).Input("a", Image).Weight("b", [7, 1], 0.1f, 2f).Node("Div", ["a", "b"], ["y"]).Output("y"),
        ["Sum (8)"] = () => new GraphBuilder(8).Input("a", Image).Input("b", [8]).Input("c", [4, 7, 1]).Node("Sum", ["a", "b", "c"], ["y"]).Output("y"),
        ["Relu"] = () => Unary("Relu", 14),
        ["Sigmoid"] = () => Unary("Sigmoid", 13),
        ["Tanh"] = () => Unary("Tanh", 13),
        ["LeakyRelu"] = () => Unary("LeakyRelu", 16, ("alpha", 0.2f)),
        ["Identity"] = () => Unary("Identity", 16),
        ["Clip attributes (7)"] = () => Unary("Clip", 7, ("min", -0.5f), ("max", 0.7f)),
        ["Clip inputs (11)"] = () => new GraphBuilder(11).Input("x", Image).Floats("lo", [-0.5f]).Floats("hi", [0.7f])
            .Node("Clip", ["x", "lo", "hi"], ["y"]).Output("y"),
        ["Clip max only (13)"] = () => new GraphBuilder(13).Input("x", Image).Floats("hi", [0.3f]).Node("Clip", ["x", "", "hi"], ["y"]).Output("y"),
        ["Softmax coerced 2-D (11)"] = () => Unary("Softmax", 11, ("axis", 2)),
        ["Softmax default axis (7)"] = () => Unary("Softmax", 7),
        ["Softmax one axis (13)"] = () => Unary("Softmax", 13, ("axis", 1)),
        ["Dropout ratio attribute (7)"] = () => Unary("Dropout", 7, ("ratio", 0.3f)),
        ["Dropout ratio input (13)"] = () => new GraphBuilder(13).Input("x", Image).Floats("r", [0.4f])
            .Node("Dropout", ["x", "r"], ["y"]).Output("y"),
        ["Conv pads 1 (11)"] = () => Conv(11, [6, 4, 3, 3], ("pads", new[] { 1, 1, 1, 1 })),
        ["Conv stride 2, pads 3/2 (8)"] = () => Conv(8, [5, 4, 7, 7], ("strides", new[] { 2, 2 }), ("pads", new[] { 3, 3, 2, 2 })),
        ["Conv pads 0/1 (11)"] = () => Conv(11, [5, 4, 3, 2], ("pads", new[] { 0, 0, 1, 1 })),
        ["Conv SAME_UPPER stride 2 (11)"] = () => Conv(11, [5, 4, 4, 4], ("auto_pad", "SAME_UPPER"), ("strides", new[] { 2, 2 })),
        ["Conv SAME_LOWER (11)"] = () => Conv(11, [5, 4, 2, 2], ("auto_pad", "SAME_LOWER")),
        ["Conv VALID dilated (11)"] = () => Conv(11, [5, 4, 3, 3], ("auto_pad", "VALID"), ("dilations", new[] { 2, 1 })),
        ["Conv groups (11)"] = () => Conv(11, [6, 2, 3, 3], ("group", 2), ("kernel_shape", new[] { 3, 3 })),
        ["Conv 1-D (11)"] = () => new GraphBuilder(11).Input("x", [2, 3, 9]).Weight("w", [4, 3, 3])
            .Node("Conv", ["x", "w"], ["y"], ("pads", new[] { 1, 2 }), ("strides", new[] { 2 })).Output("y"),
        ["ConvTranspose stride 2 (11)"] = () => ConvTranspose(11, [4, 3, 3, 3], ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 }),
            ("output_padding", new[] { 1, 1 })),
        ["ConvTranspose asymmetric pads (7)"] = () => ConvTranspose(7, [4, 2, 3, 2], ("strides", new[] { 2, 1 }), ("pads", new[] { 0, 1, 1, 0 })),
        ["ConvTranspose output_shape (11)"] = () => ConvTranspose(11, [4, 2, 3, 3], ("strides", new[] { 2, 2 }), ("output_shape", new[] { 10, 12 })),
        ["ConvTranspose SAME_UPPER (11)"] = () => ConvTranspose(11, [4, 2, 3, 3], ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_UPPER")),
        ["ConvTranspose dilated (11)"] = () => ConvTranspose(11, [4, 1, 2, 2], ("dilations", new[] { 2, 2 })),
        ["Gemm transB, vector C (11)"] = () => new GraphBuilder(11).Input("a", [3, 5]).Weight("b", [4, 5]).Weight("c", [4])
            .Node("Gemm", ["a", "b", "c"], ["y"], ("transB", 1)).Output("y"),
        ["Gemm transA, alpha, beta, matrix C (9)"] = () => new GraphBuilder(9).Input("a", [5, 3]).Weight("b", [5, 4]).Weight("c", [3, 4])
            .Node("Gemm", ["a", "b", "c"], ["y"], ("transA", 1), ("alpha", 0.5f), ("beta", 2f)).Output("y"),
        ["Gemm no C (13)"] = () => new GraphBuilder(13).Input("a", [3, 5]).Weight("b", [5, 4]).Node("Gemm", ["a", "b"], ["y"]).Output("y"),
        ["MatMul batched (13)"] = () => new GraphBuilder(13).Input("a", [2, 3, 5]).Weight("b", [5, 4]).Node("MatMul", ["a", "b"], ["y"]).Output("y"),
        ["MaxPool k3 s2 p1 (8)"] = () => Unary("MaxPool", 8, ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })),
        ["MaxPool pads 1/0 (8)"] = () => Unary("MaxPool", 8, ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 0, 0 })),
        ["MaxPool pads 0/1 (8)"] = () => Unary("MaxPool", 8, ("kernel_shape", new[] { 2, 2 }), ("pads", new[] { 0, 0, 1, 1 })),
        ["MaxPool ceil mode (10)"] = () => Unary("MaxPool", 10, ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("ceil_mode", 1)),
        ["MaxPool dilated (12)"] = () => Unary("MaxPool", 12, ("kernel_shape", new[] { 2, 2 }), ("dilations", new[] { 2, 2 })),
        ["MaxPool SAME_UPPER (11)"] = () => Unary("MaxPool", 11, ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("auto_pad", "SAME_UPPER")),
        ["MaxPool 1-D (11)"] = () => new GraphBuilder(11).Input("x", [2, 3, 9]).Node("MaxPool", ["x"], ["y"], ("kernel_shape", new[] { 3 }), ("strides", new[] { 2 })).Output("y"),
        ["AveragePool include pads (7)"] = () => Unary("AveragePool", 7, ("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 1, 1, 1, 1 }), ("count_include_pad", 1)),
        ["AveragePool exclude pads (11)"] = () => Unary("AveragePool", 11, ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })),
        ["AveragePool pads 0/1 exclude (11)"] = () => Unary("AveragePool", 11, ("kernel_shape", new[] { 2, 2 }), ("pads", new[] { 0, 0, 1, 1 })),
        ["AveragePool pads 2/0 (11)"] = () => Unary("AveragePool", 11, ("kernel_shape", new[] { 3, 3 }), ("pads", new[] { 2, 2, 0, 0 }), ("count_include_pad", 1)),
        ["AveragePool ceil mode (10)"] = () => Unary("AveragePool", 10, ("kernel_shape", new[] { 2, 2 }), ("strides", new[] { 2, 2 }), ("ceil_mode", 1)),
        ["GlobalAveragePool"] = () => Unary("GlobalAveragePool", 7),
        ["GlobalMaxPool"] = () => Unary("GlobalMaxPool", 7),
        ["BatchNormalization spatial (7)"] = () => BatchNorm(7, ("spatial", 1), ("epsilon", 1e-3f)),
        ["BatchNormalization (9)"] = () => BatchNorm(9),
        ["BatchNormalization (15)"] = () => BatchNorm(15, ("epsilon", 1e-2f)),
        ["LRN"] = () => Unary("LRN", 13, ("size", 3), ("alpha", 0.1f), ("beta", 0.6f), ("bias", 2f)),
        ["Concat (11)"] = () => new GraphBuilder(11).Input("a", Image).Input("b", [2, 3, 7, 8]).Node("Concat", ["a", "b"], ["y"], ("axis", -3)).Output("y"),
        ["Flatten axis 2 (13)"] = () => Unary("Flatten", 13, ("axis", 2)),
        ["Flatten default (9)"] = () => Unary("Flatten", 9),
        ["Reshape 0 and -1 (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("s", [0, -1, 4], 3).Node("Reshape", ["x", "s"], ["y"]).Output("y"),
        ["Transpose perm (13)"] = () => Unary("Transpose", 13, ("perm", new[] { 0, 2, 3, 1 })),
        ["Transpose default (7)"] = () => Unary("Transpose", 7),
        ["Pad constant attributes (7)"] = () => Unary("Pad", 7, ("pads", new[] { 0, 0, 1, 2, 0, 1, 0, 3 }), ("value", 0.5f)),
        ["Pad reflect (11)"] = () => new GraphBuilder(11).Input("x", Image).Ints("p", [0, 0, 2, 1, 0, 0, 1, 3], 8).Node("Pad", ["x", "p"], ["y"], ("mode", "reflect")).Output("y"),
        ["Pad edge (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("p", [0, 1, 2, 0, 0, 0, 1, 3], 8).Node("Pad", ["x", "p"], ["y"], ("mode", "edge")).Output("y"),
        ["Pad crop and value (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("p", [0, 0, -1, 2, 0, 0, 1, -2], 8).Floats("v", [-1f])
            .Node("Pad", ["x", "p", "v"], ["y"]).Output("y"),
        ["Pad axes (18)"] = () => new GraphBuilder(18).Input("x", Image).Ints("p", [1, 2, 3, 0], 4).Floats("v", [2f]).Ints("axes", [-1, 1], 2)
            .Node("Pad", ["x", "p", "v", "axes"], ["y"]).Output("y"),
        ["Shape, Gather, Unsqueeze, Concat, Reshape (13)"] = () => new GraphBuilder(13).Input("x", Image)
            .Ints("zero", [0], []).Ints("axes", [0], 1).Ints("minus", [-1], 1)
            .Node("Shape", ["x"], ["shape"]).Node("Gather", ["shape", "zero"], ["batch"], ("axis", 0))
            .Node("Unsqueeze", ["batch", "axes"], ["batch1"]).Node("Concat", ["batch1", "minus"], ["target"], ("axis", 0))
            .Node("Reshape", ["x", "target"], ["y"]).Output("y"),
        ["Shape arithmetic, Cast, Unsqueeze/Squeeze attributes (11)"] = () => new GraphBuilder(11).Input("x", Image)
            .Ints("two", [2], []).Ints("three", [3], []).Ints("start", [0], 1).Ints("end", [2], 1)
            .Node("Shape", ["x"], ["shape"]).Node("Gather", ["shape", "two"], ["h"], ("axis", 0)).Node("Gather", ["shape", "three"], ["w"], ("axis", 0))
            .Node("Mul", ["h", "w"], ["hw"]).Node("Unsqueeze", ["hw"], ["hw1"], ("axes", new[] { 0 }))
            .Node("Slice", ["shape", "start", "end"], ["nc"]).Node("Concat", ["nc", "hw1"], ["target"], ("axis", 0))
            .Node("Reshape", ["x", "target"], ["y"])
            .Node("Unsqueeze", ["target"], ["t2"], ("axes", new[] { 0 })).Node("Squeeze", ["t2"], ["t1"], ("axes", new[] { 0 }))
            .Node("Sub", ["t1", "two"], ["t0"]).Node("Cast", ["t0"], ["sizes"], ("to", 1)).Output("y").Output("sizes"),
        ["Gather float 2-D indices (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("i", [3, 0, 1, 1, -1, 2], 2, 3)
            .Node("Gather", ["x", "i"], ["y"], ("axis", 2)).Output("y"),
        ["Squeeze attribute (11)"] = () => new GraphBuilder(11).Input("x", [2, 1, 3, 1]).Node("Squeeze", ["x"], ["y"], ("axes", new[] { 1, -1 })).Output("y"),
        ["Squeeze input (13)"] = () => new GraphBuilder(13).Input("x", [2, 1, 3, 1]).Ints("a", [3], 1).Node("Squeeze", ["x", "a"], ["y"]).Output("y"),
        ["Squeeze all (13)"] = () => new GraphBuilder(13).Input("x", [2, 1, 3, 1]).Node("Squeeze", ["x"], ["y"]).Output("y"),
        ["Unsqueeze input (13)"] = () => new GraphBuilder(13).Input("x", [2, 3]).Ints("a", [-1, 0], 2).Node("Unsqueeze", ["x", "a"], ["y"]).Output("y"),
        ["Slice attributes (9)"] = () => Unary("Slice", 9, ("starts", new[] { 1, -3 }), ("ends", new[] { 100, -1 }), ("axes", new[] { 2, 3 })),
        ["Slice steps (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("s", [0, 6], 2).Ints("e", [100, -100], 2).Ints("a", [2, 3], 2).Ints("t", [2, -2], 2)
            .Node("Slice", ["x", "s", "e", "a", "t"], ["y"]).Output("y"),
        ["Split attribute (11)"] = () => new GraphBuilder(11).Input("x", Image).Node("Split", ["x"], ["y1", "y2"], ("axis", 3), ("split", new[] { 3, 5 })).Output("y1").Output("y2"),
        ["Split input (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("s", [1, 3], 2).Node("Split", ["x", "s"], ["y1", "y2"], ("axis", 1)).Output("y1").Output("y2"),
        ["Split equal (18)"] = () => new GraphBuilder(18).Input("x", Image).Node("Split", ["x"], ["y1", "y2", "y3"], ("axis", 2), ("num_outputs", 3)).Output("y1").Output("y2").Output("y3"),
        ["Constant, ConstantOfShape (13)"] = () => new GraphBuilder(13).Input("x", [2, 3])
            .Node("Constant", [], ["c"], ("value_floats", new[] { 1f, 2f, 3f })).Node("Constant", [], ["shape"], ("value_ints", new long[] { 2, 3 }))
            .Node("ConstantOfShape", ["shape"], ["k"]).Node("Add", ["x", "c"], ["t"]).Node("Add", ["t", "k"], ["y"]).Output("y"),
        ["Upsample nearest attribute (7)"] = () => Unary("Upsample", 7, ("scales", new[] { 1f, 1f, 2f, 3f })),
        ["Upsample linear input (9)"] = () => new GraphBuilder(9).Input("x", [1, 2, 5, 6]).Floats("s", [1f, 1f, 2f, 1.5f], 4)
            .Node("Upsample", ["x", "s"], ["y"], ("mode", "linear")).Output("y"),
        ["Resize nearest (10)"] = () => Resize(10, [1f, 1f, 2f, 2f]),
        ["Resize linear half_pixel (11)"] = () => Resize(11, [1f, 1f, 2f, 1.5f], ("mode", "linear")),
        ["Resize linear shrink pytorch_half_pixel (13)"] = () => Resize(13, [1f, 1f, 0.6f, 0.5f], ("mode", "linear"), ("coordinate_transformation_mode", "pytorch_half_pixel")),
        ["Resize nearest asymmetric floor (13)"] = () => Resize(13, [1f, 1f, 2f, 3f], ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor")),
        ["Resize nearest shrink round_prefer_ceil (13)"] = () => Resize(13, [1f, 1f, 0.5f, 0.7f], ("nearest_mode", "round_prefer_ceil")),
        ["Resize linear align_corners sizes (11)"] = () => ResizeTo(11, [1, 2, 9, 4], ("mode", "linear"), ("coordinate_transformation_mode", "align_corners")),
        ["Resize cubic (13)"] = () => Resize(13, [1f, 1f, 2f, 2f], ("mode", "cubic")),
        ["HardSigmoid default alpha (7)"] = () => Unary("HardSigmoid", 7),
        ["HardSigmoid PyTorch's alpha (13)"] = () => Unary("HardSigmoid", 13, ("alpha", 1f / 6), ("beta", 0.5f)),
        ["HardSigmoid alpha, beta (21)"] = () => Unary("HardSigmoid", 21, ("alpha", 0.3f), ("beta", 0.4f)),
        ["HardSwish (14)"] = () => Wide("HardSwish", 14),
        ["HardSwish (21)"] = () => Wide("HardSwish", 21),
        ["Erf (9)"] = () => Unary("Erf", 9),
        ["Erf (13)"] = () => Wide("Erf", 13),
        ["Sqrt (7)"] = () => Positive(7).Node("Sqrt", ["p"], ["y"]).Output("y"),
        ["Sqrt (13)"] = () => Positive(13).Node("Sqrt", ["p"], ["y"]).Output("y"),
        ["Pow scalar exponent (7)"] = () => Positive(7).Floats("e", [2f], 1).Node("Pow", ["p", "e"], ["y"]).Output("y"),
        ["Pow broadcast exponent (7)"] = () => Positive(7).Weight("e", [8]).Node("Pow", ["p", "e"], ["y"]).Output("y"),
        ["Pow int exponent (12)"] = () => new GraphBuilder(12).Input("x", Image).Ints("e", [3], []).Node("Pow", ["x", "e"], ["y"]).Output("y"),
        ["Pow tensor exponent (13)"] = () => Positive(13).Input("e", [7, 1]).Node("Pow", ["p", "e"], ["y"]).Output("y"),
        ["Pow integer base, shape arithmetic (15)"] = () => new GraphBuilder(15).Input("x", Image).Ints("two", [2], [])
            .Node("Shape", ["x"], ["s"]).Node("Pow", ["s", "two"], ["p"]).Node("Cast", ["p"], ["y"], ("to", 1)).Output("y"),
        ["Pow half exponent (15)"] = () => Positive(15).Floats("e", [0.5f]).Node("Pow", ["p", "e"], ["y"]).Output("y"),
        ["ReduceMean axes keepdims (7)"] = () => Unary("ReduceMean", 7, ("axes", new[] { 2, 3 })),
        ["ReduceMean negative axes, keepdims 0 (11)"] = () => Unary("ReduceMean", 11, ("axes", new[] { -1, 1 }), ("keepdims", 0)),
        ["ReduceMean all axes (13)"] = () => Unary("ReduceMean", 13, ("keepdims", 0)),
        ["ReduceMean axes input (18)"] = () => new GraphBuilder(18).Input("x", Image).Ints("a", [-1], 1).Node("ReduceMean", ["x", "a"], ["y"]).Output("y"),
        ["ReduceMean no axes, all (18)"] = () => Unary("ReduceMean", 18),
        ["ReduceMean no axes, noop (18)"] = () => Unary("ReduceMean", 18, ("noop_with_empty_axes", 1)),
        ["LayerNormalization last axis (17)"] = () => new GraphBuilder(17).Input("x", Image, 2f).Weight("s", [8], 0.5f, 1f).Weight("b", [8])
            .Node("LayerNormalization", ["x", "s", "b"], ["y"], ("epsilon", 1e-6f)).Output("y"),
        ["LayerNormalization axis 1, statistics (17)"] = () => new GraphBuilder(17).Input("x", Image).Weight("s", [4, 7, 8], 0.5f, 1f)
            .Node("LayerNormalization", ["x", "s"], ["y", "mean", "inv"], ("axis", 1)).Output("y").Output("mean").Output("inv"),
        ["LayerNormalization broadcast scale (17)"] = () => new GraphBuilder(17).Input("x", Image).Weight("s", [1, 8], 0.5f, 1f).Weight("b", [7, 1])
            .Node("LayerNormalization", ["x", "s", "b"], ["y"], ("axis", -2)).Output("y"),
        ["LayerNormalization (21)"] = () => new GraphBuilder(21).Input("x", Image).Weight("s", [8], 0.5f, 1f).Weight("b", [8])
            .Node("LayerNormalization", ["x", "s", "b"], ["y"]).Output("y"),
        ["Resize cubic exclude_outside (13)"] = () => Resize(13, [1f, 1f, 1.5f, 2f], ("mode", "cubic"), ("exclude_outside", 1), ("cubic_coeff_a", -0.5f)),
        ["Comparisons and logic (13)"] = () => new GraphBuilder(13).Input("a", Image, 2f).Input("b", [8], 2f)
            .Node("Floor", ["a"], ["fa"]).Node("Floor", ["b"], ["fb"]).Node("Equal", ["fa", "fb"], ["eq"])
            .Node("Greater", ["a", "b"], ["g"]).Node("Less", ["a", "b"], ["l"]).Node("GreaterOrEqual", ["fa", "fb"], ["ge"])
            .Node("LessOrEqual", ["fa", "fb"], ["le"]).Node("Not", ["g"], ["n"]).Node("And", ["eq", "ge"], ["and"])
            .Node("Or", ["l", "eq"], ["or"]).Node("Xor", ["g", "le"], ["xor"])
            .Output("eq", DataType.Bool).Output("ge", DataType.Bool).Output("le", DataType.Bool).Output("n", DataType.Bool)
            .Output("and", DataType.Bool).Output("or", DataType.Bool).Output("xor", DataType.Bool),
        ["Where float (16)"] = () => new GraphBuilder(16).Input("a", Image).Input("b", [7, 1]).Node("Greater", ["a", "b"], ["c"])
            .Node("Where", ["c", "a", "b"], ["y"]).Output("y"),
        ["Where on shapes, Equal (9)"] = () => new GraphBuilder(9).Input("x", Image).Ints("t", [2, 1, 7, 1], 4).Ints("one", [1], 1)
            .Node("Shape", ["x"], ["s"]).Node("Equal", ["s", "t"], ["e"]).Node("Where", ["e", "s", "one"], ["y"]).Output("y", DataType.Int64),
        ["Min, Max variadic (13)"] = () => new GraphBuilder(13).Input("a", Image).Input("b", [8]).Input("c", [7, 1])
            .Node("Min", ["a", "b", "c"], ["lo"]).Node("Max", ["a", "c"], ["hi"]).Output("lo").Output("hi"),
        ["Max, Min, Mod on shapes (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("five", [5], []).Ints("three", [-3], [])
            .Node("Shape", ["x"], ["s"]).Node("Max", ["s", "five"], ["hi"]).Node("Min", ["s", "five"], ["lo"]).Node("Mod", ["s", "three"], ["m"])
            .Node("Mod", ["s", "three"], ["f"], ("fmod", 1)).Output("hi", DataType.Int64).Output("lo", DataType.Int64)
            .Output("m", DataType.Int64).Output("f", DataType.Int64),
        ["Mod fmod floats (13)"] = () => new GraphBuilder(13).Input("a", Image, 3f).Weight("b", [8], 0.5f, 1.5f)
            .Node("Mod", ["a", "b"], ["y"], ("fmod", 1)).Output("y"),
        ["Exp (13)"] = () => Unary("Exp", 13),
        ["Neg (13)"] = () => Unary("Neg", 13),
        ["Abs (13)"] = () => Unary("Abs", 13),
        ["Floor (13)"] = () => Wide("Floor", 13),
        ["Ceil (13)"] = () => Wide("Ceil", 13),
        ["Log (13)"] = () => Positive(13).Node("Log", ["p"], ["y"]).Output("y"),
        ["Reciprocal (13)"] = () => Positive(13).Node("Reciprocal", ["p"], ["y"]).Output("y"),
        ["ReduceSum axes attribute (11)"] = () => Unary("ReduceSum", 11, ("axes", new[] { 1, 3 })),
        ["ReduceSum axes input, keepdims 0 (13)"] = () => new GraphBuilder(13).Input("x", Image).Ints("a", [-1], 1)
            .Node("ReduceSum", ["x", "a"], ["y"], ("keepdims", 0)).Output("y"),
        ["ReduceMin (13)"] = () => Unary("ReduceMin", 13, ("axes", new[] { 2 }), ("keepdims", 0)),
        ["ReduceMax axes input (18)"] = () => new GraphBuilder(18).Input("x", Image).Ints("a", [1, 2], 2).Node("ReduceMax", ["x", "a"], ["y"]).Output("y"),
        ["ReduceMax all (13)"] = () => Unary("ReduceMax", 13, ("keepdims", 0)),
        ["ReduceProd (13)"] = () => Positive(13).Node("ReduceProd", ["p"], ["y"], ("axes", new[] { 3 })).Output("y"),
        ["ReduceProd, ReduceMax on shapes (13)"] = () => new GraphBuilder(13).Input("x", Image).Node("Shape", ["x"], ["s"])
            .Node("ReduceProd", ["s"], ["p"], ("keepdims", 0)).Node("ReduceMax", ["s"], ["m"]).Output("p", DataType.Int64).Output("m", DataType.Int64),
        ["Range on shapes (11)"] = () => new GraphBuilder(11).Input("x", Image).Ints("three", [3], []).Ints("start", [1], []).Ints("step", [2], [])
            .Node("Shape", ["x"], ["s"]).Node("Gather", ["s", "three"], ["w"]).Node("Range", ["start", "w", "step"], ["y"]).Output("y", DataType.Int64),
        ["Range floats, negative delta (11)"] = () => new GraphBuilder(11).Input("x", [1]).Floats("start", [2.5f]).Floats("limit", [-1.2f]).Floats("step", [-0.7f])
            .Node("Range", ["start", "limit", "step"], ["r"]).Node("Add", ["r", "x"], ["y"]).Output("y"),
        ["Expand both ways (13)"] = () => new GraphBuilder(13).Input("x", [3, 1]).Ints("s", [2, 1, 4], 3).Node("Expand", ["x", "s"], ["y"]).Output("y"),
        ["Expand integers (8)"] = () => new GraphBuilder(8).Input("x", Image).Ints("s", [3, 1], 2).Node("Shape", ["x"], ["v"])
            .Node("Expand", ["v", "s"], ["y"]).Output("y", DataType.Int64),
        ["Tile (13)"] = () => new GraphBuilder(13).Input("x", [2, 3]).Ints("r", [2, 3], 2).Node("Tile", ["x", "r"], ["y"]).Output("y"),
        ["TopK largest (11)"] = () => new GraphBuilder(11).Input("x", Image).Ints("k", [3], 1).Node("TopK", ["x", "k"], ["v", "i"], ("axis", 2))
            .Output("v").Output("i", DataType.Int64),
        ["TopK smallest, last axis (11)"] = () => new GraphBuilder(11).Input("x", Image).Ints("k", [5], 1).Node("TopK", ["x", "k"], ["v", "i"], ("largest", 0))
            .Output("v").Output("i", DataType.Int64),
        ["TopK k input (10)"] = () => new GraphBuilder(10).Input("x", Image).Ints("k", [2], 1).Node("TopK", ["x", "k"], ["v", "i"], ("axis", 1))
            .Output("v").Output("i", DataType.Int64),
        ["TopK k attribute (7)"] = () => new GraphBuilder(7).Input("x", Image).Node("TopK", ["x"], ["v", "i"], ("k", 4)).Output("v").Output("i", DataType.Int64),
        ["NonZero (13)"] = () => new GraphBuilder(13).Input("x", Image).Floats("t", [0.5f]).Node("Greater", ["x", "t"], ["g"])
            .Node("NonZero", ["g"], ["y"]).Output("y", DataType.Int64),
        ["GatherND (11)"] = () => new GraphBuilder(11).Input("x", [2, 3, 4]).Ints("i", [0, 1, 1, 2, 1, -3], 3, 2)
            .Node("GatherND", ["x", "i"], ["y"]).Output("y"),
        ["GatherND batch_dims (12)"] = () => new GraphBuilder(12).Input("x", [2, 3, 4]).Ints("i", [2, 0, 1, 0, 0, -1], 2, 3, 1)
            .Node("GatherND", ["x", "i"], ["y"], ("batch_dims", 1)).Output("y"),
        ["ScatterElements (11)"] = () => new GraphBuilder(11).Input("x", [3, 4]).Input("u", [3, 2]).Ints("i", [1, 3, 0, -1, 2, 2], 3, 2)
            .Node("ScatterElements", ["x", "i", "u"], ["y"], ("axis", 1)).Output("y"),
        ["ScatterElements add (16)"] = () => new GraphBuilder(16).Input("x", [3, 4]).Input("u", [2, 4]).Ints("i", [1, 1, 0, 2, 1, 0, 0, 2], 2, 4)
            .Node("ScatterElements", ["x", "i", "u"], ["y"], ("reduction", "add")).Output("y"),
        ["ScatterElements max (18)"] = () => new GraphBuilder(18).Input("x", [3, 4]).Input("u", [2, 4]).Ints("i", [1, 1, 0, 2, 1, 0, 0, 2], 2, 4)
            .Node("ScatterElements", ["x", "i", "u"], ["y"], ("reduction", "max")).Output("y"),
        ["NonMaxSuppression corners (11)"] = () => Nms(11, 0),
        ["NonMaxSuppression centre and size (10)"] = () => Nms(10, 1),
        ["RoiAlign output_half_pixel (10)"] = () => RoiAlign(10, ("output_height", 3), ("output_width", 2), ("sampling_ratio", 2), ("spatial_scale", 0.5f)),
        ["RoiAlign adaptive sampling (16)"] = () => RoiAlign(16, ("output_height", 2), ("output_width", 3), ("coordinate_transformation_mode", "output_half_pixel")),
        ["RoiAlign half_pixel (16)"] = () => RoiAlign(16, ("output_height", 3), ("output_width", 3), ("sampling_ratio", 2)),
        ["If then, reading outer values (13)"] = () => If(13, 2),
        ["If else (16)"] = () => If(16, 3),
    };

    /// <summary>Ten random boxes in one picture, scored for two classes; at most three kept per class.</summary>
    static GraphBuilder Nms(long opset, int centred)
    {
        var b = new GraphBuilder(opset).Input("raw", [1, 10, 4], 2f).Input("logits", [1, 2, 10], 2f).Ints("max", [3], 1).Floats("iou", [0.2f], 1).Floats("score", [0.2f], 1);
        // Centre and size: sizes made positive; corners: any two opposite corners.
        if (centred == 1) b.Node("Abs", ["raw"], ["boxes"]);
        else b.Node("Identity", ["raw"], ["boxes"]);
        return b.Node("Sigmoid", ["logits"], ["scores"]).Node("NonMaxSuppression", ["boxes", "scores", "max", "iou", "score"], ["y"], ("center_point_box", centred))
            .Output("y", DataType.Int64);
    }

    static GraphBuilder RoiAlign(long opset, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", [2, 3, 8, 8]).Floats("rois", [0, 0, 4, 4, 1, 2, 7.5f, 6, 2.5f, 1, 3, 3.2f, 6, 6, 14, 15], 4, 4).Ints("batch", [0, 1, 1, 0], 4)
            .Node("RoiAlign", ["x", "rois", "batch"], ["y"], attributes).Output("y");

    /// <summary>If on whether the input's first size is <paramref name="size"/>: then x·x + w, else −x (both read the outer x).</summary>
    static GraphBuilder If(long opset, long size)
    {
        var thenBranch = new GraphBuilder(opset).Node("Mul", ["x", "x"], ["sq"]).Node("Add", ["sq", "w"], ["t"]).Output("t").Graph();
        var elseBranch = new GraphBuilder(opset).Node("Neg", ["x"], ["e"]).Output("e").Graph();
        return new GraphBuilder(opset).Input("x", Image).Weight("w", [8]).Ints("zero", [0], []).Ints("size", [size], [])
            .Node("Shape", ["x"], ["s"]).Node("Gather", ["s", "zero"], ["n"]).Node("Equal", ["n", "size"], ["c"])
            .Node("If", ["c"], ["y"], ("then_branch", thenBranch), ("else_branch", elseBranch)).Output("y");
    }

    /// <summary>Inputs spread over ±6, past the hard activations' kinks at ±3.</summary>
    static GraphBuilder Wide(string op, long opset) =>
        new GraphBuilder(opset).Input("x", Image, 3f).Node(op, ["x"], ["y"]).Output("y");

    /// <summary>p = Sigmoid(x) + 0.1: positive values, for Sqrt and fractional powers.</summary>
    static GraphBuilder Positive(long opset) =>
        new GraphBuilder(opset).Input("x", Image).Floats("tenth", [0.1f]).Node("Sigmoid", ["x"], ["s"]).Node("Add", ["s", "tenth"], ["p"]);

    static GraphBuilder BatchNorm(long opset, params (string, object)[] attributes) =>
        new GraphBuilder(opset).Input("x", Image).Weight("scale", [4], 0.3f, 1f).Weight("bias", [4]).Weight("mean", [4]).Weight("var", [4], 0.2f, 1f)
            .Node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"], attributes).Output("y");

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesOnnxRuntime(string name)
    {
        var builder = Cases[name]();
        var bytes = builder.Bytes();
        var expected = Reference.Run(bytes, builder.Feeds);
        var actual = OnnxModel.Load(bytes, source: name).Run(builder.Feeds);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (output, (values, shape)) in expected)
            Reference.Close(values, shape, actual[output], 1e-4, $"{name}, output {output}");
    }

    [Fact]
    public void OpsOutsideTheirOpsetsAndBadShapesAreNamed()
    {
        var early = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(Unary("HardSwish", 13).Bytes()));
        Assert.Equal(("HardSwish", 13L), (early.OpType, early.Opset));
        Assert.Contains("opset 14", early.Message);

        // An op ConvKit lacks, inside an If branch too, is named with its node and opset.
        var missing = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(Unary("Einsum", 12, ("equation", "nchw->nhwc")).Bytes()));
        Assert.Equal(("Einsum", "Einsum_0", 12L), (missing.OpType, missing.NodeName, missing.Opset));
        var branch = new GraphBuilder(13).Node("Einsum", ["x"], ["t"], ("equation", "nchw->nhwc")).Output("t").Graph();
        var nested = new GraphBuilder(13).Input("x", Image).Ints("c", [1], []).Node("If", ["c"], ["y"], ("then_branch", branch), ("else_branch", branch)).Output("y");
        var inner = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(nested.Bytes()));
        Assert.Equal(("Einsum", "Einsum_0", 13L), (inner.OpType, inner.NodeName, inner.Opset));

        var axes = Assert.Throws<ArgumentException>(() => OnnxModel.Load(Unary("ReduceMean", 18, ("axes", new[] { 1 })).Bytes()).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(Image) }));
        Assert.Contains("ReduceMean node 'ReduceMean_0'", axes.Message);
        Assert.Contains("input 1", axes.Message);

        var scale = new GraphBuilder(17).Input("x", Image).Weight("s", [5]).Node("LayerNormalization", ["x", "s"], ["y"]).Output("y");
        var bad = Assert.Throws<ArgumentException>(() => OnnxModel.Load(scale.Bytes()).Run(scale.Feeds));
        Assert.Contains("LayerNormalization node 'LayerNormalization_0'", bad.Message);
        Assert.Contains("[5]", bad.Message);
        Assert.Contains("[2, 4, 7, 8]", bad.Message);
    }
}
