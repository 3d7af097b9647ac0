using System.Text;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Child.Warmup;

// ${env:NAME}, ${config:Section:Key} and $$ (one '$'); any other '$' is kept as it is.
internal static class HeaderTemplate
{
    private const string EnvPrefix = "env:";
    private const string ConfigPrefix = "config:";

    // Names the bad part only: the rest of a header value may be a secret.
    public static string? Check(string value) => Expand(value, static (_, _) => "set") is { Error: { } error } ? error : null;

    // An empty value counts as not set: an empty token is never what was meant.
    public static (string? Value, string? Error) Resolve(string value, IConfiguration configuration, Func<string, string?> environment) =>
        Expand(value, (source, name) => source == EnvPrefix ? environment(name) : configuration[name]);

    private static (string? Value, string? Error) Expand(string value, Func<string, string, string?> lookUp)
    {
        var result = new StringBuilder(value.Length);
        int i = 0;
        while (i < value.Length)
        {
            char c = value[i];
            if (c != '$' || i + 1 == value.Length || value[i + 1] is not ('$' or '{'))
            {
                result.Append(c);
                i++;
                continue;
            }

            if (value[i + 1] == '$')
            {
                result.Append('$');
                i += 2;
                continue;
            }

            int end = value.IndexOf('}', i + 2);
            if (end < 0)
            {
                return (null, $"'{value[i..Math.Min(value.Length, i + 12)]}…' has no closing '}}'");
            }

            string reference = value[(i + 2)..end];
            string? source = reference.StartsWith(EnvPrefix, StringComparison.Ordinal) ? EnvPrefix
                : reference.StartsWith(ConfigPrefix, StringComparison.Ordinal) ? ConfigPrefix
                : null;
            string name = source is null ? "" : reference[source.Length..];
            if (source is null || name.Length == 0 || name.Any(char.IsWhiteSpace))
            {
                return (null, $"'${{{reference}}}' must be ${{env:NAME}} or ${{config:Section:Key}}");
            }

            string? part = lookUp(source, name);
            if (string.IsNullOrEmpty(part))
            {
                return (null, source == EnvPrefix
                    ? $"'${{{reference}}}' names the environment variable {name}, which is not set"
                    : $"'${{{reference}}}' names the configuration key {name}, which is not set");
            }

            result.Append(part);
            i = end + 1;
        }

        return (result.ToString(), null);
    }
}
