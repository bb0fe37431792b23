using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuNet.Bench.Suites;

/// <summary>A throughput column: an amount per operation (FLOPs, bytes, samples) divided by the median time.</summary>
public sealed class RateColumn(string name, string legend, Func<BenchmarkCase, double?> amountPerOperation, double unit) : IColumn
{
    public string Id => nameof(RateColumn) + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        double? amount = amountPerOperation(benchmarkCase);
        if (stats == null || amount == null) return "-";
        return (amount.Value / (stats.Median * 1e-9) / unit).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static T? Param<T>(BenchmarkCase c, string name) where T : class =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value as T;
}
