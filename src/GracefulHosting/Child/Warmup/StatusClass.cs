namespace GracefulHosting.Child.Warmup;

internal static class StatusClass
{
    public static int? Parse(string? text) =>
        text is { Length: 3 } && text[0] is >= '2' and <= '5' && text[1..].Equals("xx", StringComparison.OrdinalIgnoreCase)
            ? text[0] - '0'
            : null;
}
