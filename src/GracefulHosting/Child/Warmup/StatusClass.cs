namespace GracefulHosting.Child.Warmup;

/// <summary>The status classes a warm-up request may expect: <c>2xx</c> to <c>5xx</c>.</summary>
internal static class StatusClass
{
    /// <summary>The class's first digit, or null when <paramref name="text"/> is not one of them.</summary>
    public static int? Parse(string? text) =>
        text is { Length: 3 } && text[0] is >= '2' and <= '5' && text[1..].Equals("xx", StringComparison.OrdinalIgnoreCase)
            ? text[0] - '0'
            : null;
}
