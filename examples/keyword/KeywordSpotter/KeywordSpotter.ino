/*
 * Keyword spotting with two tinygen models in one sketch (examples/keyword/README.md):
 * 30 ms audio frames every 20 ms -> the audio front end (40 int8 features per frame, a noise estimate
 * kept between frames) -> the last 49 frames' features -> the classifier ("yes", "no", silence,
 * unknown). Needs the two libraries that README's `tinygen export --prefix` commands write
 * (AudioFrontEnd, KeywordModel). This sketch listens to one second of recorded audio, clip.h; on a
 * Nano 33 BLE Sense, call addFrame() with the PDM microphone's samples as they come instead.
 */
#include <AudioFrontEnd.h>
#include <KeywordModel.h>

#include "clip.h"

static const int kFrameSamples = 480; // 30 ms at 16 kHz
static const int kHopSamples = 320;   // 20 ms
static const int kFrames = 49;        // one second
static const int kFeatures = 40;

static int8_t features[kFrames][kFeatures]; // the last 49 frames' features, oldest first

keyword::Model classifier;

/* One frame through the front end; its features become the newest row of the window. */
static void addFrame(const int16_t *samples)
{
    memcpy(frontend_model_inputs[0].data, samples, kFrameSamples * sizeof(int16_t));
    frontend_model_invoke();
    memmove(features[0], features[1], (kFrames - 1) * kFeatures);
    memcpy(features[kFrames - 1], frontend_model_outputs[0].data, kFeatures);
}

/* The classifier takes the front end's bytes as they are: its input's scale is 1, its zero point 0. */
static bool inputTakesFeatures()
{
    const keyword_tensor_info &in = keyword_model_inputs[0];
    return in.dtype == KEYWORD_INT8 && in.scale == 1.0f && in.zero_point == 0 && in.bytes == sizeof features;
}

void setup()
{
    Serial.begin(115200);
    while (!Serial && millis() < 5000) {
        // USB serial (Nano 33 BLE): wait up to 5 s for the Serial Monitor to open the port
    }
    frontend_model_init();
    classifier.begin();
}

void loop()
{
    if (!inputTakesFeatures()) {
        Serial.println("the classifier's input is not the front end's features");
        return;
    }
    frontend_model_reset_state(); // a new recording: the noise estimate starts afresh
    const unsigned long start = micros();
    for (int k = 0; k < kFrames; k++) {
        addFrame(&kClip[k * kHopSamples]);
    }
    memcpy(keyword_model_inputs[0].data, features, sizeof features);
    classifier.invoke();
    const unsigned long elapsed = micros() - start;
    const int best = classifier.argmax();
    Serial.print("label: ");
    Serial.print(classifier.label(best));
    Serial.print(", score: ");
    Serial.print(classifier.output(best), 4);
    Serial.print(", microseconds: ");
    Serial.println(elapsed);
    delay(1000);
}
