using ILGPU;

namespace GpuNet.Devices;

internal static class ViewExtensions
{
    /// <summary>The view from <paramref name="offset"/> to its end.</summary>
    public static ArrayView<T> From<T>(this ArrayView<T> view, long offset) where T : unmanaged =>
        view.SubView(offset, view.Length - offset);
}
