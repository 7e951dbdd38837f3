"""`cradle speech`: convert Whisper weights, transcribe a file, score a folder, speak a reply."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.speech import (
    BACKENDS,
    AudioError,
    AudioLimits,
    Backend,
    DecodeOptions,
    ModelNotFound,
    Speaker,
    SpeechModel,
    TTSError,
    load_model,
    make_engine,
    transcribe,
)
from models.speech.evaluate import (
    TRANSCRIPTS_FILE,
    evaluate,
    names_as_transcripts,
    read_transcripts,
)
from models.speech.locate import WHISPER_FOLDERS, openai_checkpoint
from services.cli.common import settings_or_exit

app = typer.Typer(help="Speech: Whisper recognition and spoken replies.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

ModelOption = Annotated[str, typer.Option("--model", "-m", help="tiny.en, base, or a local path.")]
BackendOption = Annotated[str, typer.Option("--backend", "-b", help="openai or faster.")]
LanguageOption = Annotated[
    str | None, typer.Option(help="Spoken language (en, fr...); detected when left out.")
]
BeamOption = Annotated[int, typer.Option("--beam", min=1, max=10, help="Beam size; 1 is greedy.")]
PromptOption = Annotated[
    str | None, typer.Option("--prompt", help="Family words to expect (names, game names).")
]
DeviceOption = Annotated[str, typer.Option(help="cpu, cuda or auto.")]


def _backend(name: str) -> Backend:
    if name not in BACKENDS:
        err.print(f"[red]unknown backend {name!r}; choose {' or '.join(BACKENDS)}[/]")
        raise typer.Exit(2)
    return "openai" if name == "openai" else "faster"


def _load(name: str, backend: str, device: str) -> SpeechModel:
    try:
        return load_model(name, device, _backend(backend), settings_or_exit().models_dir)
    except ModelNotFound as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc


@app.command()
def convert(
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Model name; every one if left out.")
    ] = None,
) -> None:
    """Convert the CTranslate2 Whisper weights into openai-whisper checkpoints (once)."""
    models_dir = settings_or_exit().models_dir
    for name in model or list(WHISPER_FOLDERS):
        try:
            with console.status(f"converting {name}"):
                checkpoint = openai_checkpoint(models_dir, name)
        except ModelNotFound as exc:
            err.print(f"  {name:<8} [yellow]skipped[/]: {exc}")
            continue
        size = checkpoint.stat().st_size / 1e6
        console.print(f"  {name:<8} [green]ok[/] {checkpoint} ({size:.0f} MB)")


@app.command("transcribe")
def transcribe_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An audio file.")],
    model: ModelOption = "tiny.en",
    backend: BackendOption = "faster",
    language: LanguageOption = None,
    beam: BeamOption = 5,
    prompt: PromptOption = None,
    device: DeviceOption = "cpu",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Print the transcript of one recording, with segment timings."""
    speech_model = _load(model, backend, device)
    options = DecodeOptions(language=language, beam_size=beam, initial_prompt=prompt)
    started = time.perf_counter()
    try:
        result = transcribe(speech_model, file.read_bytes(), AudioLimits(1 << 30, 3600.0), options)
    except AudioError as exc:
        err.print(f"[red]{file}: {exc}[/]")
        raise typer.Exit(1) from exc
    elapsed = time.perf_counter() - started
    if as_json:
        console.print_json(json.dumps(result.to_dict() | {"seconds": round(elapsed, 3)}))
        return
    if not result.heard_speech:
        console.print("[yellow]no speech heard[/]")
    for segment in result.segments:
        console.print(f"[dim]{segment.start:6.2f}-{segment.end:6.2f}[/] {segment.text}")
    console.print(
        f"[dim]{result.backend}/{result.model}, language {result.language or '-'}, "
        f"{result.duration:.1f} s of audio in {elapsed:.2f} s[/]"
    )


@app.command("eval")
def eval_folder(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Recordings.")],
    transcripts: Annotated[
        Path | None,
        typer.Option(help=f"'file<TAB>text' lines; default FOLDER/{TRANSCRIPTS_FILE}."),
    ] = None,
    names: Annotated[
        bool, typer.Option("--names", help="Use file names as transcripts (ALSA samples).")
    ] = False,
    model: Annotated[list[str] | None, typer.Option("--model", "-m")] = None,
    backend: Annotated[list[str] | None, typer.Option("--backend", "-b")] = None,
    language: LanguageOption = None,
    beam: BeamOption = 5,
    prompt: PromptOption = None,
    device: DeviceOption = "cpu",
    output: Annotated[Path | None, typer.Option(help="Also write the reports as JSON.")] = None,
) -> None:
    """Word error rate and real-time factor per backend and model over FOLDER."""
    if names:
        references = names_as_transcripts(folder)
    else:
        source = transcripts or folder / TRANSCRIPTS_FILE
        if not source.is_file():
            err.print(f"[red]no {source}: write one, or pass --names[/]")
            raise typer.Exit(2)
        references = read_transcripts(source)
    options = DecodeOptions(language=language, beam_size=beam, initial_prompt=prompt)
    table = Table("backend", "model", "files", "WER", "S/D/I", "silent+words", "RTF")
    reports = []
    for backend_name in backend or list(BACKENDS):
        for model_name in model or ["tiny.en"]:
            speech_model = _load(model_name, backend_name, device)
            with console.status(f"{backend_name}/{model_name}"):
                report = evaluate(speech_model, folder, references, options)
            reports.append(report)
            table.add_row(
                report.backend,
                report.model,
                str(len(report.utterances)),
                f"{report.wer:.3f}",
                f"{report.substitutions}/{report.deletions}/{report.insertions}",
                str(report.silent_clips_with_words),
                f"{report.real_time_factor:.3f}",
            )
    console.print(table)
    if output:
        output.write_text(json.dumps([asdict(r) for r in reports], indent=2))
        console.print(f"[dim]written {output}[/]")


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    engine: Annotated[str, typer.Option(help="piper or espeak.")] = "piper",
    out: Annotated[Path, typer.Option("--out", "-o", help=".wav or .ogg file.")] = Path("reply.wav"),
) -> None:
    """Speak TEXT into a wav or ogg file with the chosen engine."""
    if engine not in ("piper", "espeak"):
        err.print("[red]--engine is piper or espeak[/]")
        raise typer.Exit(2)
    speaker = Speaker(
        make_engine("piper" if engine == "piper" else "espeak", settings_or_exit().models_dir),
        "ogg" if out.suffix.lower() in (".ogg", ".opus") else "wav",
    )
    started = time.perf_counter()
    try:
        audio = speaker.synthesize(text)
    except (TTSError, ValueError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    out.write_bytes(audio)
    console.print(f"{out} ({len(audio)} bytes, {time.perf_counter() - started:.2f} s)")
