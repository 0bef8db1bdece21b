using System.Diagnostics;
using System.Reflection;
using ConvKit.Backends.Gpu;
using Xunit;
using Xunit.Sdk;

namespace ConvKit.GpuCheck;

/// <summary>
/// Runs the backend-parameterised part of the xunit suite (ConvKit.Tests) on the GPU backend without an xunit runner:
/// every public [Theory] whose data rows (any xunit DataAttribute: MemberData, InlineData, ClassData) take the GPU
/// backend's name as their first argument, each row on a fresh instance of its test class, classes one after another.
/// <c>fixtures [--device cuda|ilgpu-cpu] [--filter SUBSTRING] [--list]</c>; the filter matches "Namespace.Class.Method",
/// ignoring case; --list prints the cases instead of running them. Prints each failure and ends with
/// "N passed, N failed"; exits 1 if any failed.
/// </summary>
static class FixtureRunner
{
    public static int Run(string[] args)
    {
        string device = "ilgpu-cpu";
        string? filter = null;
        bool list = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--device" when i + 1 < args.Length: device = args[++i]; break;
                case "--filter" when i + 1 < args.Length: filter = args[++i]; break;
                case "--list": list = true; break;
                default:
                    Console.Error.WriteLine("usage: ConvKit.GpuCheck fixtures [--device cuda|ilgpu-cpu] [--filter SUBSTRING] [--list]");
                    return 2;
            }
        }
        if (device is not ("cuda" or "ilgpu-cpu"))
        {
            Console.Error.WriteLine($"fixtures: unknown device '{device}' (cuda or ilgpu-cpu)");
            return 2;
        }

        // TestBackends makes its GPU backend in its static initialiser from CONVKIT_TEST_GPU, so set that first and
        // reach TestBackends only by reflection (a direct reference could run the initialiser when this method is
        // compiled, before the variable is set).
        Environment.SetEnvironmentVariable("CONVKIT_TEST_GPU", device == "cuda" ? "cuda" : null);
        var tests = Assembly.Load("ConvKit.Tests");
        var backendsType = tests.GetType("ConvKit.Tests.TestBackends", throwOnError: true)!;
        GpuBackend gpu;
        try
        {
            gpu = (GpuBackend)backendsType.GetField("Gpu", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        }
        catch (Exception e) // the static initialiser's TypeInitializationException, without a GPU say
        {
            while (e.InnerException is not null) e = e.InnerException;
            Console.WriteLine($"fixtures: no {device} backend: {e.GetType().Name}: {e.Message}");
            return 1;
        }
        var accelerator = gpu.Accelerator;
        string memory = accelerator.MemorySize < 1L << 50 ? $"{accelerator.MemorySize / (1024.0 * 1024 * 1024):F1} GiB" : "host memory";
        Console.WriteLine($"backend {gpu.Name}: {accelerator.Name} ({accelerator.AcceleratorType}, {memory}, " +
                          $"{accelerator.NumMultiprocessors} multiprocessors)");

        int passed = 0, failed = 0, skipped = 0, listed = 0;
        var total = Stopwatch.StartNew();
        foreach (var type in tests.GetExportedTypes().Where(t => t.IsClass).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var clock = Stopwatch.StartNew();
            int classPassed = 0, classFailed = 0;
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                         .Where(m => m.GetCustomAttribute<TheoryAttribute>() is not null && !m.IsGenericMethodDefinition)
                         .OrderBy(m => m.MetadataToken))
            {
                if (type.IsAbstract && !method.IsStatic) continue;
                string name = $"{type.FullName}.{method.Name}";
                if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
                List<object?[]> rows;
                try
                {
                    rows = method.GetCustomAttributes<DataAttribute>()
                        .SelectMany(data => data.GetData(method) ?? [])
                        .Where(row => row.Length > 0 && row[0] is string first && first == gpu.Name)
                        .ToList();
                }
                catch (Exception e)
                {
                    Report($"{name} (data)", e);
                    failed++; classFailed++;
                    continue;
                }
                if (rows.Count == 0) continue;
                if (method.GetCustomAttribute<TheoryAttribute>()!.Skip is not null)
                {
                    skipped += rows.Count;
                    continue;
                }
                foreach (var row in rows)
                {
                    if (list) { Console.WriteLine($"{name}({string.Join(", ", row.Select(Format))})"); listed++; continue; }
                    var error = Invoke(type, method, row);
                    if (error is null) { passed++; classPassed++; }
                    else { Report($"{type.Name}.{method.Name}({string.Join(", ", row.Select(Format))})", error); failed++; classFailed++; }
                }
            }
            if (classPassed + classFailed > 0)
                Console.WriteLine($"  {type.FullName}: {classPassed} passed, {classFailed} failed ({clock.Elapsed.TotalSeconds:F1} s)");
        }
        if (list)
        {
            Console.WriteLine($"{listed} cases{(skipped > 0 ? $", {skipped} skipped" : "")}");
            return failed > 0 ? 1 : 0;
        }
        Console.WriteLine($"{gpu.Name} in {total.Elapsed.TotalSeconds:F1} s{(skipped > 0 ? $", {skipped} skipped" : "")}");
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed > 0 ? 1 : 0;
    }

    /// <summary>Runs one row as xunit would: a new instance of the class (disposed afterwards), awaiting a task.</summary>
    static Exception? Invoke(Type type, MethodInfo method, object?[] row)
    {
        object? instance = null;
        try
        {
            var parameters = method.GetParameters();
            if (row.Length > parameters.Length) throw new ArgumentException($"{row.Length} arguments for {parameters.Length} parameters");
            var arguments = new object?[parameters.Length];
            for (int i = 0; i < parameters.Length; i++)
                arguments[i] = i < row.Length ? row[i] : parameters[i].HasDefaultValue ? parameters[i].DefaultValue
                    : throw new ArgumentException($"no argument for parameter {parameters[i].Name}");
            if (!method.IsStatic) instance = Activator.CreateInstance(type);
            object? result = method.Invoke(instance, arguments);
            if (result is Task task) task.GetAwaiter().GetResult();
            else if (result is ValueTask valueTask) valueTask.AsTask().GetAwaiter().GetResult();
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null) { return e.InnerException; }
        catch (Exception e) { return e; }
        finally
        {
            try
            {
                if (instance is IAsyncDisposable asyncDisposable) asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                else (instance as IDisposable)?.Dispose();
            }
            catch (Exception e) { Report($"{type.Name}.{method.Name} (dispose)", e); }
        }
    }

    static void Report(string test, Exception error)
    {
        Console.WriteLine($"FAIL {test}");
        var lines = $"{error.GetType().Name}: {error.Message}".Split('\n');
        foreach (var line in lines.Take(6)) Console.WriteLine($"    {line.TrimEnd()}");
        if (lines.Length > 6) Console.WriteLine($"    ... ({lines.Length - 6} more lines)");
        var frame = error.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("ConvKit") && !l.Contains("Xunit"));
        if (frame is not null) Console.WriteLine($"    {frame}");
    }

    static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"\"{(s.Length > 60 ? s[..57] + "..." : s)}\"",
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Array a => $"{a.GetType().GetElementType()?.Name}[{a.Length}]",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? value.GetType().Name,
    };
}
