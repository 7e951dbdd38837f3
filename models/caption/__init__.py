"""The scene captioner: a CNN-LSTM that describes a nursery frame in one sentence.

config      hyperparameters (frozen dataclasses stored in checkpoints as dicts)
vocab       the tokenizer and the word list (JSON, versioned)
model       encoder (shared ImageNet backbone) + LSTM decoder, optional soft attention
decoding    greedy and batched beam search
data        COCO / Flickr8k / CSV captions, leakage-safe splits, cached features
training    train_one_epoch, evaluate, main(args)
evaluation  BLEU-1..4 and the sample sheet
synth       synthetic nursery scenes with reference captions (not real data)
demo        the demo checkpoint, built on synthetic scenes
safety      caption patterns -> safety hazards (the rules in safety.yaml)
serve       a checkpoint loaded once: frames or shared feature maps in, captions out
"""
