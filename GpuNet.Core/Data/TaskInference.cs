namespace GpuNet.Data;

/// <summary>
/// Decides whether a CSV label column is classified or regressed. Fixed classes or <see cref="CsvTask.Classify"/>
/// mean classification, <see cref="CsvTask.Regress"/> regression. Under <see cref="CsvTask.Auto"/>: classification when
/// any label is not a number (all labels are then class names), or when every label is an integer literal (optional
/// sign and digits only: "3", not "3.0") and there are 2 to <see cref="Csv.MaxAutoClasses"/> distinct values;
/// otherwise regression.
/// </summary>
internal static class TaskInference
{
    /// <summary>The task for <paramref name="labels"/> under <paramref name="options"/>.</summary>
    public static TaskKind Choose(CsvOptions options, CsvLabelColumn labels)
    {
        if (options.ClassNames != null) return TaskKind.Classification;
        switch (options.Task)
        {
            case CsvTask.Classify: return TaskKind.Classification;
            case CsvTask.Regress: return TaskKind.Regression;
        }
        if (!labels.AllNumbers) return TaskKind.Classification;
        return labels.AllIntegers && labels.DistinctIntegers >= 2 && labels.DistinctIntegers <= Csv.MaxAutoClasses
            ? TaskKind.Classification
            : TaskKind.Regression;
    }
}
