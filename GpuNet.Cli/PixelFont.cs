namespace GpuNet.Cli;

/// <summary>A 5×7 bitmap font (digits, capital letters and the signs plots need), drawn at a whole-number scale.
/// Lower-case letters are drawn as capitals.</summary>
internal static class PixelFont
{
    public const int Width = 5, Height = 7;

    /// <summary>Horizontal advance of one character at <paramref name="scale"/>: the glyph and one pixel column of space.</summary>
    public static int Advance(int scale) => (Width + 1) * scale;

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>, without the trailing space.</summary>
    public static int Measure(string text, int scale) => text.Length == 0 ? 0 : text.Length * Advance(scale) - scale;

    /// <summary>The glyph's rows, top first, '#' for a lit pixel; null for a character the font lacks.</summary>
    public static string[]? Glyph(char c) => Glyphs.TryGetValue(char.ToUpperInvariant(c), out var g) ? g : null;

    private static readonly Dictionary<char, string[]> Glyphs = Parse(new Dictionary<char, string>
    {
        ['0'] = ".###. #...# #..## #.#.# ##..# #...# .###.", ['1'] = "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
        ['2'] = ".###. #...# ....# ...#. ..#.. .#... #####", ['3'] = "####. ....# ....# .###. ....# ....# ####.",
        ['4'] = "...#. ..##. .#.#. #..#. ##### ...#. ...#.", ['5'] = "##### #.... ####. ....# ....# #...# .###.",
        ['6'] = "..##. .#... #.... ####. #...# #...# .###.", ['7'] = "##### ....# ...#. ..#.. .#... .#... .#...",
        ['8'] = ".###. #...# #...# .###. #...# #...# .###.", ['9'] = ".###. #...# #...# .#### ....# ...#. .##..",
        ['A'] = ".###. #...# #...# ##### #...# #...# #...#", ['B'] = "####. #...# #...# ####. #...# #...# ####.",
        ['C'] = ".###. #...# #.... #.... #.... #...# .###.", ['D'] = "####. #...# #...# #...# #...# #...# ####.",
        ['E'] = "##### #.... #.... ####. #.... #.... #####", ['F'] = "##### #.... #.... ####. #.... #.... #....",
        ['G'] = ".###. #...# #.... #.### #...# #...# .####", ['H'] = "#...# #...# #...# ##### #...# #...# #...#",
        ['I'] = ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", ['J'] = "..### ...#. ...#. ...#. ...#. #..#. .##..",
        ['K'] = "#...# #..#. #.#.. ##... #.#.. #..#. #...#", ['L'] = "#.... #.... #.... #.... #.... #.... #####",
        ['M'] = "#...# ##.## #.#.# #.#.# #...# #...# #...#", ['N'] = "#...# #...# ##..# #.#.# #..## #...# #...#",
        ['O'] = ".###. #...# #...# #...# #...# #...# .###.", ['P'] = "####. #...# #...# ####. #.... #.... #....",
        ['Q'] = ".###. #...# #...# #...# #.#.# #..#. .##.#", ['R'] = "####. #...# #...# ####. #.#.. #..#. #...#",
        ['S'] = ".#### #.... #.... .###. ....# ....# ####.", ['T'] = "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
        ['U'] = "#...# #...# #...# #...# #...# #...# .###.", ['V'] = "#...# #...# #...# #...# #...# .#.#. ..#..",
        ['W'] = "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", ['X'] = "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
        ['Y'] = "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", ['Z'] = "##### ....# ...#. ..#.. .#... #.... #####",
        ['.'] = "..... ..... ..... ..... ..... .##.. .##..", ['-'] = "..... ..... ..... .###. ..... ..... .....",
        ['+'] = "..... ..#.. ..#.. ##### ..#.. ..#.. .....", ['%'] = "##... ##..# ...#. ..#.. .#... #..## ...##",
        ['('] = "...#. ..#.. .#... .#... .#... ..#.. ...#.", [')'] = ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
        [':'] = "..... .##.. .##.. ..... .##.. .##.. .....", ['/'] = "..... ....# ...#. ..#.. .#... #.... .....",
        [','] = "..... ..... ..... ..... .##.. ..#.. .#...", [' '] = "..... ..... ..... ..... ..... ..... .....",
    });

    private static Dictionary<char, string[]> Parse(Dictionary<char, string> rows) =>
        rows.ToDictionary(kv => kv.Key, kv =>
        {
            var g = kv.Value.Split(' ');
            if (g.Length != Height || g.Any(r => r.Length != Width)) throw new InvalidOperationException($"glyph '{kv.Key}' is not {Width}×{Height}");
            return g;
        });
}
