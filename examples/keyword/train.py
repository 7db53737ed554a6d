"""Train the keyword spotter: "yes", "no", silence, or something else, from one second of audio.

The pipeline on the device (README.md): 16 kHz audio, cut into 30 ms frames every 20 ms; tflite-micro's
audio preprocessor (tests/corpus/tflite-micro/audio_preprocessor_int8.tflite, the micro_speech example's
front end) turns each frame into 40 int8 features, keeping a noise estimate from frame to frame; the
last 49 frames' features, [49, 40], go to this classifier, a small CNN.

The data is synthetic: no speech data set is reachable here, so espeak-ng speaks the words, in seven
English accents, with its voice variants, speeds and pitches; each clip is one second, the word at a
random place and level, over background noise (white to brown, sometimes mains hum) at a random level.
"unknown" is other words (the Speech Commands set's) and, now and then, a beep, a chirp or clicks;
"silence" is the background alone. One voice variant in four is kept out of training: the test set
speaks with voices the classifier never heard. The features are computed by the preprocessor model
itself, run in tflite-micro one frame after another from a fresh interpreter for each clip, as on the
device after tg_model_reset_state(): training sees exactly the device's features.

The classifier's input is the preprocessor's output as it is: int8 values, taken as real numbers
(-128 to 127). Training scales them by 1/128; the converted model folds that factor into the first
convolution's weights. The calibration set holds the training clips with the lowest and highest
features, so that tinygen quantizes the input with scale 1 and zero point 0: on the device the
preprocessor's bytes go into the classifier's input unchanged.

Needs TensorFlow, tflite-micro, scipy and espeak-ng (pip install -e '.[dev]'; apt-get install espeak-ng);
run from the repository root:  python examples/keyword/train.py
Writes, next to this script: keyword_float.tflite and keyword_int8.tflite (tinygen quantize);
calibration.npz and test.npz (x: features, int8 [N, 49, 40, 1]; y: labels); frames.npz (the first test
clips as the preprocessor's input, int16 [N, 49, 480]: 49 frames each); labels.txt;
KeywordSpotter/clip.h (the first test clip, the 15,840 samples its 49 frames cover, for the sketch).
"""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PREPROCESSOR = HERE.parent.parent / "tests/corpus/tflite-micro/audio_preprocessor_int8.tflite"
SEED = 0
LABELS = ("silence", "unknown", "yes", "no")  # micro_speech's classes, in its order
# Other words for "unknown": the Speech Commands set's.
OTHER_WORDS = (
    "bed bird cat dog down eight five four go happy house left marvin nine off on one right seven "
    "sheila six stop three tree two up wow zero backward follow forward learn visual"
)
UNKNOWN_WORDS = OTHER_WORDS.split()
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029")
# espeak-ng's voice variants.
VARIANT_NAMES = (
    "m1 f1 m2 f2 m3 f3 m4 f4 m5 f5 m6 m7 m8 klatt klatt2 klatt3 klatt4 klatt5 klatt6 whisper whisperf croak "
    "grandma grandpa adam Alex Alicia Andrea Andy Annie aunty belinda benjamin boris caleb david ed edward "
    "john linda max Michael paul pedro quincy rob robert steph travis victor zac norbert shelby"
)
VARIANTS = VARIANT_NAMES.split()
TEST_VARIANTS = tuple(VARIANTS[3::4])  # voices kept out of training
RATE, CLIP = 16000, 16000  # samples per second; one clip is one second
FRAME, HOP, FRAMES = 480, 320, 49  # 30 ms windows every 20 ms: 49 fit in one second
TRAIN_PER_LABEL, TEST_PER_LABEL, CALIBRATION, FRAMED = 500, 25, 48, 2


def speak(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """The word as espeak-ng says it, at 16 kHz, leading and trailing silence cut, peak 1."""
    from scipy.signal import resample_poly

    command = ["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch), word]
    with wave.open(io.BytesIO(subprocess.run(command, capture_output=True, check=True).stdout)) as wav:
        speech = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64)
        rate = wav.getframerate()
    speech = resample_poly(speech, RATE // 50, rate // 50)  # 22,050 Hz -> 16 kHz
    loud = np.flatnonzero(np.abs(speech) > 0.02 * np.abs(speech).max())
    speech = speech[loud[0] : loud[-1] + 1]
    return speech / np.abs(speech).max()


def background(rng: np.random.Generator) -> np.ndarray:
    """A second of noise, white to brown (a one-pole low-pass), now and then with mains hum, its level
    from -80 to -30 dB of full scale."""
    from scipy.signal import lfilter

    pole = rng.uniform(0.0, 0.995)
    noise = lfilter([1.0], [1.0, -pole], rng.standard_normal(CLIP))
    noise /= noise.std()
    if rng.random() < 0.3:
        t = np.arange(CLIP) / RATE
        mains = rng.choice([50.0, 60.0])
        noise += sum(rng.uniform(0, 2) / h * np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 6.3)) for h in (1, 2, 3))
    return noise * 32768 * 10 ** (rng.uniform(-80, -30) / 20) / noise.std()


def sound(rng: np.random.Generator) -> np.ndarray:
    """Something that is not a word, peak 1: a beep, a chirp or a few clicks."""
    t = np.arange(int(rng.uniform(0.1, 0.6) * RATE)) / RATE
    kind = rng.integers(3)
    if kind == 0:
        return np.sin(2 * np.pi * rng.uniform(300, 3000) * t)
    if kind == 1:
        low, high = sorted(rng.uniform(200, 6000, 2))
        return np.sin(2 * np.pi * (low * t + (high - low) * t**2 / (2 * t[-1])))
    clicks = np.zeros(len(t))
    clicks[rng.integers(0, len(t) - 40, rng.integers(1, 6))] = 1.0
    return np.convolve(clicks, rng.standard_normal(40) * np.hanning(40), mode="same") / 2


def clip(rng: np.random.Generator, label: str, variants: tuple[str, ...]) -> np.ndarray:
    """One second of int16 audio for the label: background, and over it (but for silence) the word or
    sound at a random place and a peak level from -30 to -1 dB of full scale."""
    audio = background(rng)
    if label != "silence":
        if label == "unknown" and rng.random() < 0.15:
            foreground = sound(rng)
        else:
            word = label if label != "unknown" else str(rng.choice(UNKNOWN_WORDS))
            voice = f"{rng.choice(ACCENTS)}+{rng.choice(variants)}"
            foreground = speak(word, voice, int(rng.integers(110, 200)), int(rng.integers(20, 80)))
        foreground = foreground[:CLIP]
        start = int(rng.integers(0, CLIP - len(foreground) + 1))
        audio[start : start + len(foreground)] += foreground * 32767 * 10 ** (rng.uniform(-30, -1) / 20)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def frames(audio: np.ndarray) -> np.ndarray:
    """The 49 frames of a clip, as the preprocessor takes them: [49, 480] int16."""
    return np.stack([audio[k * HOP : k * HOP + FRAME] for k in range(FRAMES)])


def features(clips: np.ndarray) -> np.ndarray:
    """Each clip's features: its frames through the preprocessor in tflite-micro, one after another
    from a fresh interpreter (the noise estimate starts afresh), [N, 49, 40, 1] int8."""
    from tflite_micro import runtime

    model = PREPROCESSOR.read_bytes()
    result = np.zeros((len(clips), FRAMES, 40, 1), np.int8)
    for n, audio in enumerate(clips):
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=16384)
        for k, frame in enumerate(frames(audio)):
            interpreter.set_input(frame.reshape(1, FRAME), 0)
            interpreter.invoke()
            result[n, k, :, 0] = interpreter.get_output(0)
    return result


def dataset(rng: np.random.Generator, per_label: int, variants: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """per_label clips of each label, taken in turn (yes, no, silence, unknown, yes, ...)."""
    order = [LABELS.index(name) for name in ("yes", "no", "silence", "unknown")] * per_label
    return np.stack([clip(rng, LABELS[label], variants) for label in order]), np.array(order)


def clip_header(audio: np.ndarray) -> str:
    """The samples the 49 frames cover as a C array for the KeywordSpotter sketch."""
    samples = audio[: (FRAMES - 1) * HOP + FRAME]
    rows = [", ".join(str(v) for v in samples[k : k + 16]) for k in range(0, len(samples), 16)]
    body = ",\n".join(f"    {row}" for row in rows)
    return (
        "/* Generated by examples/keyword/train.py: one second of synthetic audio, 16 kHz, the first test clip. */\n"
        f"#include <stdint.h>\n\nstatic const int16_t kClip[{len(samples)}] = {{\n{body}\n}};\n"
    )


def classifier(keras, batch_size: int | None = None):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((FRAMES, 40, 1), batch_size=batch_size),
            layers.Conv2D(8, (10, 8), strides=(2, 2), padding="same", activation="relu"),
            layers.Conv2D(16, (5, 5), strides=(2, 2), padding="same", activation="relu"),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(len(LABELS)),
            layers.Softmax(),
        ]
    )


def calibration_set(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """CALIBRATION training clips, among them those that hold the lowest and the highest feature."""
    chosen = [int(np.argmin(x.reshape(len(x), -1).min(axis=1))), int(np.argmax(x.reshape(len(x), -1).max(axis=1)))]
    chosen += [n for n in range(len(x)) if n not in chosen][: CALIBRATION - 2]
    if (x[chosen].min(), x[chosen].max()) != (-128, 127):
        raise SystemExit("the training features do not reach -128 and 127: the input would not be scale 1")
    return {"x": x[chosen], "y": y[chosen]}


def main() -> None:
    import tensorflow as tf

    rng = np.random.default_rng(SEED)
    train_variants = tuple(v for v in VARIANTS if v not in TEST_VARIANTS)
    train_audio, y_train = dataset(rng, TRAIN_PER_LABEL, train_variants)
    test_audio, y_test = dataset(rng, TEST_PER_LABEL, TEST_VARIANTS)
    x_train, x_test = features(train_audio), features(test_audio)

    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    trained = classifier(tf.keras)
    trained.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    trained.fit(x_train.astype(np.float32) / 128, y_train, epochs=30, batch_size=64, verbose=0)
    single = classifier(tf.keras, batch_size=1)  # batch 1: the plain graph TFLite converts simply
    weights = trained.get_weights()
    single.set_weights([weights[0] / 128, *weights[1:]])  # the input's 1/128 folded into the first kernel
    (HERE / "keyword_float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(single).convert())

    np.savez_compressed(HERE / "calibration.npz", **calibration_set(x_train, y_train))
    np.savez_compressed(HERE / "test.npz", x=x_test, y=y_test)
    framed = np.stack([frames(audio) for audio in test_audio[:FRAMED]])
    np.savez_compressed(HERE / "frames.npz", x=framed)  # no labels: the preprocessor's outputs are features
    (HERE / "KeywordSpotter/clip.h").write_text(clip_header(test_audio[0]), encoding="utf-8")
    (HERE / "labels.txt").write_text("".join(f"{label}\n" for label in LABELS), encoding="utf-8")
    quantize = [sys.executable, "-m", "tinygen", "quantize", str(HERE / "keyword_float.tflite")]
    quantize += ["--calibration", str(HERE / "calibration.npz"), "-o", str(HERE / "keyword_int8.tflite"), "--force"]
    subprocess.run(quantize, check=True)


if __name__ == "__main__":
    main()
