"""Files people hand the service (scenario and keyword files, algorithm code, attachments), read within bounds and
refused with a Russian reason (the system's own words are English, and /dev/zero never ends)."""

from __future__ import annotations

from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024
"""The largest text file read (the ten-thousand-record keyword file of the benchmark is under 1 MB)."""
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
"""The largest attachment: what a Telegram bot may send."""


def read_text_file(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the file at ``path``; raises ValueError saying in Russian why it cannot be read."""
    data = read_file_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"файл не в кодировке UTF-8 (байт {error.start + 1})") from None


def read_file_bytes(path: Path, limit: int = MAX_ATTACHMENT_BYTES) -> bytes:
    """The content of the file at ``path``, at most ``limit`` bytes; raises ValueError saying in Russian why it
    cannot be read."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        raise ValueError(describe_os_error(error)) from None
    if len(data) > limit:
        raise ValueError(f"файл больше {limit // 1024 // 1024} МБ")
    return data


def describe_os_error(error: Exception) -> str:
    """Why a file could not be opened, read or written, in Russian."""
    if isinstance(error, FileNotFoundError):
        return "файл не найден"
    if isinstance(error, IsADirectoryError):
        return "это каталог, а нужен файл"
    if isinstance(error, PermissionError):
        return "нет прав доступа"
    if isinstance(error, NotADirectoryError):
        return "часть пути — не каталог"
    if isinstance(error, OSError) and error.errno is not None:
        return f"ошибка ввода-вывода (код {error.errno})"
    return "недопустимое имя файла"
