-- Schema version 6: teacher-forced quality. target_nll = mean -log P(target token | what the system handed
-- the decoder, prompt), in nats, over the target tokens and the closing eos. Unlike F1/BLEU of a greedy
-- generation it moves smoothly, so it still ranks examples when generations are all wrong.
ALTER TABLE evaluations ADD COLUMN target_nll DOUBLE;
