"""Doctor checks of the speech models (vocabulary asked of the model) and the Rasa model."""

from __future__ import annotations

from ivr.asr.grammars import fit_grammar
from ivr.asr.lexicon import ModelLexicon
from ivr.asr.model_files import validate_model_dir
from ivr.config import Config
from ivr.core.errors import ModelError
from ivr.core.types import Expectation, Language
from ivr.doctor.report import Finding, fail, ok, warn

CLOSED = (Expectation.YES_NO, Expectation.DIGITS, Expectation.RATING)


def _vocabulary(lang: Language, lexicon: ModelLexicon) -> list[Finding]:
    area = f"{lang.value} vocabulary"
    out = []
    opened = []
    for expect in CLOSED:
        fit = fit_grammar(lang, expect, lexicon)
        if fit.grammar is None:
            opened.append(f"{expect.value}: {fit.open_reason}")
    if len(opened) == len(CLOSED):
        out.append(fail(area, "the model knows none of the answers the IVR listens for ("
                              + "; ".join(opened) + ")",
                        f"is asr.{lang.value}_model a {lang.value} model? point it at one"))
    elif opened:
        out.append(warn(area, "open vocabulary (slower, less exact) for "
                              + "; ".join(opened)))
    else:
        out.append(ok(area, "yes/no, digits and ratings decodable with grammars"))
    return out


def check_speech_models(config: Config) -> list[Finding]:
    out: list[Finding] = []
    for lang in Language:
        path = config.model_dir(lang)
        area = f"{lang.value} model"
        setting = f"asr.{lang.value}_model"
        try:
            validate_model_dir(path)
        except ModelError as exc:
            out.append(fail(area, f"{exc} (setting {setting})",
                            "make run downloads the official model; offline: make run "
                            "CONFIG=config/tiny-models.toml, or point the setting at a model"))
            continue
        try:
            import vosk

            vosk.SetLogLevel(-1)
            model = vosk.Model(str(path))
        except Exception as exc:  # libvosk raises a bare Exception on load failure
            out.append(fail(area, f"libvosk cannot load {path}: {exc}",
                            f"point {setting} at a complete Vosk model"))
            continue
        out.append(ok(area, str(path)))
        out.extend(_vocabulary(lang, ModelLexicon(model.vosk_model_find_word)))
    return out


def check_rasa_model(config: Config) -> list[Finding]:
    from ivr import rasa_train
    from ivr.setup_tasks import Stamp, tree_digest

    model = config.rasa.model
    if not model.exists():
        return [fail("rasa model", f"{model} not found (setting rasa.model)",
                     "make run (trains it, or reuses a cached one)")]
    digest = tree_digest(rasa_train.model_inputs(config), root=config.rasa.project_dir)
    if Stamp(config, "rasa-train").fresh(digest):
        return [ok("rasa model", f"{model} trained from the current project")]
    return [warn("rasa model", f"{model} was trained from other inputs than "
                               f"{config.rasa.project_dir} holds now",
                 "make run (retrains, or reuses a cached model)")]
