"""The one error type of the core. Its message is always safe to show a user."""


class StoryBotError(Exception):
    """A failure whose message is short, true and safe to show to a user or host.

    ``usage`` marks errors caused by what the caller asked for (unknown story,
    bad chapter, bad input); the CLI exits 2 for those. ``public`` is what a Discord user is
    told when the message is for the host (it names a file path or a database address): the
    message then goes to the host's log and the CLI only.
    """

    def __init__(self, message: str, *, usage: bool = True, public: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.public = public or message

    def __str__(self) -> str:
        return self.message
