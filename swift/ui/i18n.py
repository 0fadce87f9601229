"""Page labels in Chinese and English. Argument fields are labelled `<argument name>` plus a short gloss, so a
label always names the flag it sets."""
from typing import Dict

LABELS: Dict[str, Dict[str, str]] = {
    # chat (swift app, web-ui infer tab)
    'chatbot': {'zh': '对话', 'en': 'Chat'},
    'query': {'zh': '输入', 'en': 'Message'},
    'query_ph': {'zh': '输入问题，回车发送', 'en': 'Type a message and press Enter'},
    'send': {'zh': '发送', 'en': 'Send'},
    'clear': {'zh': '清空历史', 'en': 'Clear history'},
    'regenerate': {'zh': '重新生成', 'en': 'Regenerate'},
    'system': {'zh': 'system (系统提示词)', 'en': 'system (system prompt)'},
    'gen_settings': {'zh': '生成参数', 'en': 'Generation settings'},
    'model_label': {'zh': '模型', 'en': 'Model'},
    # web-ui tabs
    'title': {'zh': 'SWIFT 训练、推理与导出', 'en': 'SWIFT: train, infer and export'},
    'tab_train': {'zh': '训练', 'en': 'Train'},
    'tab_infer': {'zh': '推理', 'en': 'Infer'},
    'tab_export': {'zh': '导出', 'en': 'Export'},
    'command': {'zh': '命令', 'en': 'Command'},
    'preview': {'zh': '预览命令', 'en': 'Preview command'},
    'start': {'zh': '开始', 'en': 'Start'},
    'stop': {'zh': '停止', 'en': 'Stop'},
    'refresh': {'zh': '刷新', 'en': 'Refresh'},
    'runs': {'zh': '运行记录', 'en': 'Runs'},
    'status': {'zh': '状态', 'en': 'Status'},
    'log': {'zh': '日志', 'en': 'Log'},
    'loss_curve': {'zh': '损失曲线', 'en': 'Loss curve'},
    'extra_args': {'zh': '其他参数 (如 --lora_dropout 0.1)', 'en': 'Other arguments (e.g. --lora_dropout 0.1)'},
    'data_preview': {'zh': '预览数据', 'en': 'Preview data'},
    'data_rows': {'zh': '数据前几行', 'en': 'First rows'},
    'dry_run': {'zh': '编码样例 (dry run)', 'en': 'Encoded sample (dry run)'},
    'hyper': {'zh': '超参数', 'en': 'Hyper-parameters'},
    'lora': {'zh': 'LoRA 参数', 'en': 'LoRA'},
    'rlhf': {'zh': 'RLHF 参数', 'en': 'RLHF'},
    'checkpoint': {'zh': '检查点', 'en': 'Checkpoint'},
    'load': {'zh': '加载模型', 'en': 'Load model'},
    'unload': {'zh': '卸载模型', 'en': 'Unload model'},
    'no_run': {'zh': '还没有运行记录。', 'en': 'No runs yet.'},
    'valid': {'zh': '参数检查通过。', 'en': 'Arguments are valid.'},
    'started': {'zh': '已启动', 'en': 'Started'},
    'stopped': {'zh': '已停止', 'en': 'Stopped'},
    'loading': {'zh': '正在加载…', 'en': 'Loading…'},
    'ready': {'zh': '已就绪', 'en': 'Ready'},
    'not_loaded': {'zh': '请先加载模型。', 'en': 'Load a model first.'},
    'progress': {'zh': '进度', 'en': 'Progress'},
}


def t(key: str, lang: str) -> str:
    return LABELS[key][lang]


# Glosses of the argument fields the forms show; the label is always `name (gloss)`.
FIELD_GLOSS: Dict[str, Dict[str, str]] = {
    'model': {'zh': '模型 id 或路径', 'en': 'model id or path'},
    'dataset': {'zh': '数据集名称或文件', 'en': 'dataset names or files'},
    'train_type': {'zh': '训练方式', 'en': 'tuner'},
    'rlhf_type': {'zh': '对齐算法', 'en': 'alignment algorithm'},
    'num_train_epochs': {'zh': '训练轮数', 'en': 'epochs'},
    'max_steps': {'zh': '最大步数, -1 不限', 'en': 'max steps, -1 = epochs'},
    'learning_rate': {'zh': '学习率', 'en': 'learning rate'},
    'per_device_train_batch_size': {'zh': '每卡批大小', 'en': 'batch size per device'},
    'gradient_accumulation_steps': {'zh': '梯度累积', 'en': 'gradient accumulation'},
    'max_length': {'zh': '最大长度', 'en': 'max tokens per sample'},
    'logging_steps': {'zh': '日志间隔', 'en': 'log every N steps'},
    'save_steps': {'zh': '保存间隔', 'en': 'save every N steps'},
    'split_dataset_ratio': {'zh': '验证集比例', 'en': 'validation fraction'},
    'output_dir': {'zh': '输出目录', 'en': 'output directory'},
    'model_name': {'zh': '自我认知: 模型名 (中文 英文)', 'en': 'self-cognition name (zh en)'},
    'model_author': {'zh': '自我认知: 作者 (中文 英文)', 'en': 'self-cognition author (zh en)'},
    'torch_dtype': {'zh': '权重精度', 'en': 'weight dtype'},
    'lora_rank': {'zh': 'LoRA 秩', 'en': 'LoRA rank'},
    'lora_alpha': {'zh': 'LoRA alpha', 'en': 'LoRA alpha'},
    'beta': {'zh': 'KL 系数', 'en': 'KL coefficient'},
    'ckpt_dir': {'zh': '检查点目录', 'en': 'checkpoint directory'},
    'adapters': {'zh': '适配器 (检查点)', 'en': 'adapter checkpoints'},
    'merge_lora': {'zh': '合并 LoRA', 'en': 'merge LoRA'},
    'to_gguf': {'zh': '导出 GGUF', 'en': 'write GGUF'},
    'gguf_quant_type': {'zh': 'GGUF 类型', 'en': 'GGUF weight type'},
    'to_ollama': {'zh': '导出 Ollama Modelfile', 'en': 'write Ollama Modelfile'},
    'quant_method': {'zh': '量化方法', 'en': 'quantization method'},
    'quant_bits': {'zh': '量化位数', 'en': 'quantization bits'},
    'temperature': {'zh': '温度', 'en': 'temperature'},
    'top_p': {'zh': 'top_p', 'en': 'top_p'},
    'max_new_tokens': {'zh': '最大生成长度', 'en': 'max new tokens'},
}


def field_label(name: str, lang: str) -> str:
    gloss = FIELD_GLOSS.get(name, {}).get(lang)
    return f'{name} ({gloss})' if gloss and gloss != name else name
