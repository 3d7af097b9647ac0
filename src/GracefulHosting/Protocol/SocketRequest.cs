namespace GracefulHosting.Protocol;

// LISTEN\t<endpoint>\t<name>\t<setting>; a systemd socket named after the Kestrel:Endpoints entry (Name) serves it.
internal sealed record SocketRequest(string Endpoint, string? Name, string Setting)
{
    public const string Verb = "LISTEN";

    public string Format() => string.Join('\t', Verb, Field(Endpoint), Field(Name ?? ""), Field(Setting));

    public static SocketRequest? Parse(string packet)
    {
        string[] parts = packet.TrimEnd('\n').Split('\t');
        if (parts.Length != 4 || parts[0] != Verb || !Endpoints.EndpointText.IsValid(parts[1]))
        {
            return null;
        }

        return new SocketRequest(parts[1], parts[2].Length == 0 ? null : parts[2], parts[3]);
    }

    // Tabs and line breaks would split the packet.
    internal static string Field(string text) =>
        text.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
